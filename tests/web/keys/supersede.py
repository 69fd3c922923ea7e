"""What a grant or rekey does to one document, done by hand for the backup-side tests
(the rewrap engine of issue 13 does it for real): the file re-encrypted into
``<agenda>.v<N+1>.pdf.age`` beside the old one, the record updated, the old file recorded
as a ``SupersededFile`` with the disk copies moved to ``SupersededCopy``, the old file
removed from the archive."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto
from brankas.web.accounts.models import Office
from brankas.web.backup.models import BackupCopy
from brankas.web.backup.versions import unversioned
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey, SupersededCopy, SupersededFile
from brankas.web.runtime import brankas_settings


def _recipient(fingerprint: str) -> str:
    key = HolderKey.objects.filter(fingerprint=fingerprint).first()
    if key is not None:
        return key.recipient
    recovery = Office.objects.get().recovery_recipient
    assert crypto.recipient_fingerprint(recovery) == fingerprint, fingerprint
    return recovery


def supersede_document(doc: Document, *, identity: str,
                       add: Sequence[HolderKey] = (),
                       drop: Sequence[HolderKey] = ()) -> SupersededFile:
    """Re-encrypt ``doc`` (opened with ``identity``, e.g. the recovery identity) to its
    recipients plus ``add`` minus ``drop``, as the next version."""
    home = brankas_settings().home
    old = home.joinpath(*doc.stored_path.split("/"))
    plain = crypto.decrypt_bytes(old.read_bytes(), [crypto.parse_identity(identity)])
    dropped = {k.fingerprint for k in drop}
    fingerprints = [f for f in doc.recipients if f not in dropped]
    fingerprints += [k.fingerprint for k in add if k.fingerprint not in fingerprints]
    data = crypto.encrypt_bytes(plain, [_recipient(f) for f in fingerprints])
    version = doc.file_version + 1
    stem = unversioned(doc.stored_path)[0]
    name = PurePosixPath(stem).name.removesuffix(crypto.EXTENSION).removesuffix(".pdf")
    new_path = str(PurePosixPath(stem).with_name(f"{name}.v{version}.pdf{crypto.EXTENSION}"))
    home.joinpath(*new_path.split("/")).write_bytes(data)
    import hashlib

    with transaction.atomic():
        superseded = SupersededFile.objects.create(
            kind=SupersededFile.DOCUMENT, object_id=doc.pk, path=doc.stored_path,
            sha256=doc.stored_sha256, size=doc.stored_size, recipients=list(doc.recipients),
            superseded_at=timezone.now())
        copies = BackupCopy.objects.filter(document=doc)
        SupersededCopy.objects.bulk_create(
            [SupersededCopy(superseded=superseded, medium_id=c.medium_id) for c in copies])
        copies.delete()
        doc.stored_path = new_path
        doc.stored_sha256 = hashlib.sha256(data).hexdigest()
        doc.stored_size = len(data)
        doc.recipients = fingerprints
        doc.file_version = version
        doc.save(update_fields=["stored_path", "stored_sha256", "stored_size", "recipients",
                                "file_version"])
    old.unlink()
    return superseded


def supersede_letter(req, *, identity: str) -> SupersededFile:  # type: ignore[no-untyped-def]
    """The same for an encrypted request letter (``letter_path``, ``letter_version``), to
    the same recipients."""
    import hashlib

    home = brankas_settings().home
    old = home.joinpath(*req.letter_path.split("/"))
    plain = crypto.decrypt_bytes(old.read_bytes(), [crypto.parse_identity(identity)])
    data = crypto.encrypt_bytes(plain, [_recipient(f) for f in req.letter_recipients])
    version = req.letter_version + 1
    stem = PurePosixPath(unversioned(req.letter_path)[0])
    name = stem.name.removesuffix(".pdf" + crypto.EXTENSION)
    new_path = str(stem.with_name(f"{name}.v{version}.pdf{crypto.EXTENSION}"))
    home.joinpath(*new_path.split("/")).write_bytes(data)
    with transaction.atomic():
        superseded = SupersededFile.objects.create(
            kind=SupersededFile.LETTER, object_id=req.pk, path=req.letter_path,
            sha256=req.letter_stored_sha256, size=req.letter_stored_size,
            recipients=list(req.letter_recipients), superseded_at=timezone.now())
        req.letter_path = new_path
        req.letter_stored_sha256 = hashlib.sha256(data).hexdigest()
        req.letter_stored_size = len(data)
        req.letter_version = version
        req.save(update_fields=["letter_path", "letter_stored_sha256", "letter_stored_size",
                                "letter_version"])
    old.unlink()
    return superseded
