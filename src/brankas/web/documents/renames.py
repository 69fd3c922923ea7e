"""Exempted files named by their number alone: renaming an archive made under the old rule.

Until issue 11 an exempted file was named ``<agenda>-<slug of the subject>.pdf.age`` (and
a request's letter ``P-NNNNN-<slug>.pdf.age``), so the subject of a secret letter could be
read off the folder listing. Now it is ``<agenda>.pdf.age`` (``P-NNNNN.pdf.age``). The
data migrations ``documents.0002`` and ``dispatch.0002`` rename what is already stored,
and ``brankas serve`` runs the same routine at every start (a no-op once done), which
also covers an instance rebuilt from a disk written before the change.

Only the name changes: the folder, the bytes and every recorded hash stay. The work is
done in batches: the files of a batch are renamed (``core.register.rename``: never overwriting,
safe to kill and re-run), their folders fsynced, and only then their records updated in
one transaction. A record whose file is at neither name keeps its path and is reported;
nothing here raises for it. The functions take the models as arguments, so a migration
passes its historical models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from brankas.core import fsutil
from brankas.core.register import rename, store
from brankas.core.terms import Category

BATCH = 200
TMP_DIR = "tmp"
_ORPHAN = re.compile(r"orphan-([0-9a-f]{8})-(.+)\.pdf\.age")


@dataclass
class Renamed:
    renamed: int = 0  # moved now
    resumed: int = 0  # found at the new name, left there by an interrupted run
    missing: list[str] = field(default_factory=list)  # numbers whose file is at neither name
    conflicts: list[str] = field(default_factory=list)  # numbers whose new name is taken
    orphans: int = 0  # set-aside files in tmp/ renamed

    @property
    def changed(self) -> bool:
        return bool(self.renamed or self.resumed or self.orphans)

    def lines(self, what: str) -> list[str]:
        """What happened, for the operator (numbers only, never a subject), in Bahasa
        Indonesia and English."""
        out: list[str] = []
        if self.changed:
            out.append(f"{what}: {self.renamed + self.resumed + self.orphans} berkas dinamai "
                       "ulang dengan nomornya saja / files renamed to their number alone")
        for label, numbers in (
            ("berkas tidak ada, nama tetap / file missing, name kept", self.missing),
            ("nama baru dipakai berkas lain, nama tetap / new name taken, name kept",
             self.conflicts),
        ):
            if numbers:
                shown = ", ".join(numbers[:10]) + (" …" if len(numbers) > 10 else "")
                out.append(f"{what}: {len(numbers)} {label}: {shown}")
        return out


def _rename_rows(home: Path, queryset: Any, *, path_field: str, hash_field: str,
                 number_of: Callable[[dict[str, Any]], str], fields: tuple[str, ...]
                 ) -> Renamed:
    summary = Renamed()
    model = queryset.model
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")
                    .values("pk", path_field, hash_field, *fields)[:BATCH])
        if not rows:
            return summary
        last = rows[-1]["pk"]
        moved: list[tuple[int, str]] = []
        folders: set[Path] = set()
        for row in rows:
            old_rel = PurePosixPath(row[path_field])
            number = number_of(row)
            if store.exempted_name_pattern(number).fullmatch(old_rel.name):
                continue  # named by its number already (a re-encrypted version: .vN)
            new_rel = old_rel.with_name(store.file_name(number=number, subject="",
                                                        exempted=True))
            old = home.joinpath(*old_rel.parts)
            new = home.joinpath(*new_rel.parts)
            outcome = rename.rename_stored(old, new, sha256=row[hash_field], sync_dir=False)
            if outcome is rename.Outcome.RENAMED:
                summary.renamed += 1
            elif outcome is rename.Outcome.DONE:
                summary.resumed += 1
            elif outcome is rename.Outcome.MISSING:
                summary.missing.append(number)
            else:
                summary.conflicts.append(number)
            if outcome.moved:
                moved.append((row["pk"], new_rel.as_posix()))
                folders.add(new.parent)
        if not moved:
            continue
        fsutil.fsync_paths(sorted(folders))  # the new names are durable before the records
        with transaction.atomic(using=queryset.db):
            for pk, new_path in moved:
                model._default_manager.using(queryset.db).filter(pk=pk).update(
                    **{path_field: new_path})


def _not_yet_renamed(queryset: Any, path_field: str, number: Any,
                     version_field: str | None = None) -> Any:
    """Rows whose stored name is not ``<number>.pdf.age`` yet, nor the name of their
    re-encrypted version ``<number>.vN.pdf.age`` (cheap to run at every start). The
    version field is left out for a migration's historical model, which has none."""
    queryset = queryset.exclude(**{f"{path_field}__endswith": Concat(
        Value("/"), number, Value(".pdf.age"))})
    fields = {f.name for f in queryset.model._meta.get_fields()}
    if version_field is not None and version_field in fields:
        queryset = queryset.exclude(**{f"{path_field}__endswith": Concat(
            Value("/"), number, Value(".v"), Cast(version_field, CharField()),
            Value(".pdf.age"))})
    return queryset


def documents_rename(*, home: Path, document_model: Any) -> Renamed:
    """Rename every exempted archive file still named under the old rule, and the
    set-aside files (``tmp/orphan-<id>-<old name>``) that carry an exempted one's name."""
    queryset = _not_yet_renamed(
        document_model._default_manager.filter(category=Category.EXEMPTED.value),
        "stored_path", F("agenda"), "file_version")
    summary = _rename_rows(home, queryset, path_field="stored_path", hash_field="stored_sha256",
                           number_of=lambda row: str(row["agenda"]), fields=("agenda",))
    summary.orphans = _rename_orphans(home, document_model)
    return summary


def letters_rename(*, home: Path, request_model: Any) -> Renamed:
    """Rename every encrypted letter of a request to send still named with its subject."""
    queryset = (request_model._default_manager.exclude(letter_suite="")
                .exclude(letter_path="")
                .filter(letter_path__endswith=".pdf.age"))
    return _rename_rows(home, queryset, path_field="letter_path",
                        hash_field="letter_stored_sha256",
                        number_of=lambda row: f"P-{row['pk']:05d}", fields=())


def _rename_orphans(home: Path, document_model: Any) -> int:
    """A file moved aside from the archive was named ``orphan-<id>-<its archive name>``;
    one that carries an exempted agenda and a slug is renamed ``orphan-<id>-<agenda>.pdf.age``
    (never over an existing name)."""
    tmp = home / TMP_DIR
    try:
        entries = sorted(tmp.iterdir())
    except OSError:
        return 0
    count = 0
    exempted = document_model._default_manager.filter(category=Category.EXEMPTED.value)
    for path in entries:
        match = _ORPHAN.fullmatch(path.name)
        if match is None or path.is_symlink() or not path.is_file():
            continue
        tag, rest = match.groups()
        parts = rest.split("-")
        prefixes = ["-".join(parts[:i]) for i in range(1, len(parts))]
        known = set(exempted.filter(agenda__in=[*prefixes, rest])
                    .values_list("agenda", flat=True))
        if rest in known:
            continue  # named by its agenda already
        agendas = [p for p in prefixes if p in known]
        if not agendas:
            continue
        target = path.with_name(f"orphan-{tag}-" + store.file_name(
            number=max(agendas, key=len), subject="", exempted=True))
        try:
            rename.move_new(path, target)
        except FileExistsError:
            continue
        fsutil.fsync_dir(tmp)
        count += 1
    return count
