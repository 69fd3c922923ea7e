"""What must hold after a hostile input: nothing stored when refused; safe names when kept."""

from __future__ import annotations

from pathlib import PurePosixPath

from brankas.core.names import is_safe_component


def files_under(folder):  # type: ignore[no-untyped-def]
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def last_audit_seq() -> int:
    from brankas.web.audit.models import AuditEvent

    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def assert_nothing_stored(home, since_seq: int) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents.models import Document

    assert Document.objects.count() == 0
    assert files_under(home / "arsip") == []
    assert files_under(home / "tmp") == []
    claims = AuditEvent.objects.filter(seq__gt=since_seq, outcome="ok")
    assert list(claims.values_list("action", flat=True)) == []


def assert_stored_safely(home) -> None:  # type: ignore[no-untyped-def]
    """Exactly one document, filed under a name that is safe on every file system."""
    from brankas.web.documents.models import Document

    (doc,) = Document.objects.all()
    rel = PurePosixPath(doc.stored_path)
    assert not rel.is_absolute() and ".." not in rel.parts
    assert all(is_safe_component(part) for part in rel.parts)
    assert (home / rel).is_file()
    assert files_under(home / "arsip") == [home / rel]
    for original in doc.originals:
        name = str(original["name"])
        assert is_safe_component(name), name
        assert "/" not in name and "\\" not in name
