"""Bulk import of an existing four-folder tree of old scans (``brankas import``).

The tree is the SOP's hand-made one: ``biasa|dikecualikan / pengiriman|penerimaan /
[YYYY /] files``. Direction and category come from the folders; the file name becomes
the subject. Files already in the register (same SHA-256) are skipped, which also makes
an interrupted import resumable: run it again and it carries on where it stopped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from brankas.core import intake, metadata
from brankas.core.access import Action, require
from brankas.core.errors import BrankasError, Conflict, InvalidInput
from brankas.core.terms import Category, Classification, Direction
from brankas.web.accounts.models import User
from brankas.web.documents.services import Pending, document_stage, documents_commit

BATCH = 50
UNKNOWN_CORRESPONDENT = "(tidak diketahui)"


@dataclass
class ImportCandidate:
    path: Path
    relative: str
    direction: Direction
    category: Category
    year: int | None


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)  # agenda numbers
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, existing agenda)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": len(self.imported),
            "skipped": len(self.skipped),
            "refused": len(self.refused),
            "agendas": self.imported,
            "skipped_files": [{"file": f, "agenda": a} for f, a in self.skipped],
            "refused_files": [{"file": f, "reason": r} for f, r in self.refused],
        }


def _match(name: str, enum: type[Direction] | type[Category]) -> Direction | Category | None:
    key = name.strip().lower()
    for member in enum:
        if key == member.value:
            return member
    return None


def scan(folder: Path) -> list[ImportCandidate]:
    """Find the files of the four folders (in a stable order)."""
    found: list[ImportCandidate] = []
    if not folder.is_dir():
        raise InvalidInput("import_folder_invalid", path=str(folder))
    for cat_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        category = _match(cat_dir.name, Category)
        if category is None:
            continue
        for dir_dir in sorted(p for p in cat_dir.iterdir() if p.is_dir()):
            direction = _match(dir_dir.name, Direction)
            if direction is None:
                continue
            for path in sorted(dir_dir.rglob("*")):
                if not path.is_file() or path.name.startswith("."):
                    continue
                rel_parts = path.relative_to(dir_dir).parts
                year = next((int(p) for p in rel_parts[:-1] if re.fullmatch(r"\d{4}", p)), None)
                found.append(
                    ImportCandidate(
                        path=path,
                        relative=path.relative_to(folder).as_posix(),
                        direction=direction,  # type: ignore[arg-type]
                        category=category,  # type: ignore[arg-type]
                        year=year,
                    )
                )
    if not found and not any(
        _match(p.name, Category) for p in folder.iterdir() if p.is_dir()
    ):
        raise InvalidInput("import_folder_invalid", path=str(folder))
    return found


def _subject(path: Path) -> str:
    text = re.sub(r"[_\-]+", " ", path.stem).strip()
    return text or path.name


def _doc_date(path: Path, year: int | None) -> dt.date:
    mdate = dt.datetime.fromtimestamp(path.stat().st_mtime).date()
    if year is not None and mdate.year != year:
        return dt.date(year, 1, 1)
    return mdate


def run_import(
    *,
    actor: User,
    folder: Path,
    exempted_classification: Classification = Classification.RAHASIA,
    on_progress: Callable[[ImportCandidate, str], None] | None = None,
    on_start: Callable[[list[ImportCandidate]], None] | None = None,
) -> ImportSummary:
    require(actor.role, Action.IMPORT)
    candidates = scan(folder)
    if on_start:
        on_start(candidates)
    summary = ImportSummary()
    batch: list[Pending] = []
    started = timezone.now()

    def flush() -> None:
        if batch:
            docs = documents_commit(actor=actor, pendings=batch)
            summary.imported.extend(d.agenda for d in docs)
            batch.clear()

    for cand in _iter(candidates):
        outcome = "imported"
        try:
            classification = (
                Classification.BIASA
                if cand.category is Category.REGULAR
                else exempted_classification
            )
            meta = metadata.build(
                direction=cand.direction.value,
                classification=classification.value,
                number="",
                doc_date=_doc_date(cand.path, cand.year),
                subject=_subject(cand.path)[: metadata.LIMITS["subject"]],
                correspondent=UNKNOWN_CORRESPONDENT,
                notes=f"Diimpor dari {cand.relative}",
            )
            pending = document_stage(
                meta=meta,
                files=[intake.InputFile.from_path(cand.path)],
                form_opened_at=started,
                source="import",
            )
            pending.extra_detail = {"imported_from": cand.relative}
            if any(p.source_sha256 == pending.source_sha256 for p in batch):
                from brankas.core import store

                store.discard(pending.staged)
                raise Conflict("duplicate_document", agenda="(batch)")
            batch.append(pending)
            if len(batch) >= BATCH:
                flush()
        except Conflict as exc:
            outcome = "skipped"
            summary.skipped.append((cand.relative, str(exc.params.get("agenda", ""))))
        except BrankasError as exc:
            if exc.code == "no_key_holder":
                flush()
                raise
            outcome = "refused"
            summary.refused.append((cand.relative, exc.message()))
        if on_progress:
            on_progress(cand, outcome)
    flush()
    return summary


def _iter(candidates: list[ImportCandidate]) -> Iterator[ImportCandidate]:
    yield from candidates
