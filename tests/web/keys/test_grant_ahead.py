"""A grant copies the first files' payloads while the granter's key is being unlocked
(s16 D, issue 13's fixed cost): the unlock runs in a thread (``grants._Opening``) and the
copies (``grants._Ahead``, ``keys.rewrap.precopy_file``) get their headers once it is open
(``keys.rewrap.finish_file``). Here the unlock is held back by the test until every copy
is made (a real ``Future``, resolved with the real unlock), so the copy path is the one
taken, for every file; the result must be the same as without it. Real SQLite, files, age."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

import pytest

from brankas.core.errors import CryptoFailure
from brankas.core.keyring import early
from brankas.core.keyring.rewrap import Precopied
from brankas.core.register import store
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import Document
from brankas.web.keys import grants
from brankas.web.keys import rewrap as engine
from brankas.web.keys.models import HolderKey, RewrapJob
from tests.conftest import PASSPHRASES, quick_protected_identity
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, open_doc, register


def _staging(office) -> list[Path]:  # type: ignore[no-untyped-def]
    tmp = office.home / "tmp"
    return sorted(tmp.glob("*.part")) if tmp.exists() else []


def _grant_with_unlock_held(office, passphrase: str) -> tuple[Any, list[Any], list[str]]:  # type: ignore[no-untyped-def]
    """``key_grant``'s locked part with the unlock resolved only once every payload copy
    has been made; returns (the summary or the exception, the copies' results, the
    stored files taken from the copies)."""
    actor = office.users["kabid"]
    grantee, key = grants._grantee_key("kabid2")
    keys = list(HolderKey.objects.filter(holder=actor, revoked_at__isnull=True))
    protected = [(k.fingerprint, bytes(k.protected_identity)) for k in keys]
    unlocking: Future[dict[str, Any]] = Future()
    opening = grants._Opening(via=actor.username, candidates={k.fingerprint for k in keys},
                              unlocking=unlocking, target="kabid2")
    copied: list[Any] = []
    taken: list[str] = []
    real_start, real_take = grants._Ahead.start, grants._Ahead.take

    def start(self, files, **kwargs):  # type: ignore[no-untyped-def]
        real_start(self, files, **kwargs)
        copies = [copy for _recipients, copy in self._copies.values()]
        wait(copies)
        copied.extend(c.result() for c in copies)
        unlocking.set_result(grants._unlock(protected, passphrase, actor.username))

    def take(self, stored, recipients):  # type: ignore[no-untyped-def]
        copy = real_take(self, stored, recipients)
        if copy is not None:
            taken.append(stored.number)
        return copy

    grants._Ahead.start, grants._Ahead.take = start, take  # type: ignore[method-assign]
    try:
        with engine.archive_exclusive():
            try:
                result: Any = grants._grant_locked(actor=actor, grantee=grantee, key=key,
                                                   opening=opening, on_progress=None)
            except CryptoFailure as exc:
                result = exc
    finally:
        grants._Ahead.start, grants._Ahead.take = real_start, real_take  # type: ignore[method-assign]
    return result, copied, taken


def test_files_copied_while_the_key_unlocks_are_granted_as_any_other(office, tmp_path):  # type: ignore[no-untyped-def]
    docs = [register(office, f"Operasi Senyap {i}") for i in range(4)]
    join_kabid2(office)
    plain = {d.agenda: open_doc(office, "kabid", d.agenda, PASSPHRASES["kabid"]) for d in docs}
    summary, copied, taken = _grant_with_unlock_held(office, PASSPHRASES["kabid"])
    # Every file went the copy-ahead way (the copies were made before the key was open).
    assert len(copied) == 4 and all(isinstance(c, Precopied) for c in copied)
    assert sorted(taken) == sorted(d.agenda for d in docs)
    assert (summary.files, summary.documents, summary.failed) == (4, 4, [])
    ident = tmp_path / "kabid2.key"
    ident.write_text(quick_protected_identity(KABID2_PASSPHRASE)[0] + "\n")
    for d in docs:
        d.refresh_from_db()
        assert d.file_version == 2
        new = office.home / d.stored_path
        assert store.file_sha256(new) == d.stored_sha256 and new.stat().st_size == d.stored_size
        assert open_doc(office, "kabid2", d.agenda, KABID2_PASSPHRASE) == plain[d.agenda]
        assert open_doc(office, "kasi", d.agenda, PASSPHRASES["kasi"]) == plain[d.agenda]
        out = subprocess.run(["age", "-d", "-i", str(ident), str(new)], capture_output=True,
                             check=True).stdout
        assert out == plain[d.agenda]
    assert AuditEvent.objects.filter(action="key.grant.file").count() == 4
    assert _staging(office) == []


def test_a_wrong_passphrase_found_after_the_copies_leaves_nothing(office):  # type: ignore[no-untyped-def]
    docs = [register(office, f"Operasi Senyap {i}") for i in range(3)]
    join_kabid2(office)
    before = {d.pk: (d.stored_path, d.stored_sha256) for d in docs}
    result, copied, taken = _grant_with_unlock_held(office, "bukan frasa sandi ini")
    assert len(copied) == 3 and all(isinstance(c, Precopied) for c in copied)
    assert taken == []
    assert isinstance(result, CryptoFailure) and result.code == "passphrase_wrong"
    assert {d.pk: (d.stored_path, d.stored_sha256)
            for d in Document.objects.filter(pk__in=before)} == before
    assert _staging(office) == []  # every copy removed
    assert not RewrapJob.objects.exists()
    refused = AuditEvent.objects.filter(action="key.grant", outcome="failed")
    assert [e.detail["error"] for e in refused] == ["passphrase_wrong"]


def test_a_wrong_passphrase_is_still_named_before_a_wrong_grantee(office):  # type: ignore[no-untyped-def]
    """The unlock now runs beside the grantee's check: a refusal still names a wrong
    passphrase first, as when the unlock came first."""
    register(office, "Operasi Senyap")
    with pytest.raises(CryptoFailure) as refused:
        grants.key_grant(actor=office.users["kabid"], to="nobody-here",
                         passphrase="bukan frasa sandi ini")
    assert refused.value.code == "passphrase_wrong"
    errors = [e.detail.get("error") for e in
              AuditEvent.objects.filter(action="key.grant", outcome="failed")]
    assert errors == ["passphrase_wrong"]


# -- the unlock begun at the command's start (``keyring.early``, ``cli/keygrant.unlocks_ahead``)

def _begin_as_the_command_does(office, monkeypatch, passphrase: str) -> dict[Any, Any]:  # type: ignore[no-untyped-def]
    """``brankas key grant``'s first step, before Django's set-up and the password check:
    the acting holder's newest key file unlocked in a thread."""
    from brankas.cli.keygrant import unlocks_ahead

    monkeypatch.setenv("BRANKAS_HOME", str(office.home))
    monkeypatch.setenv("BRANKAS_PASSPHRASE", passphrase)
    begun: dict[Any, Any] = {}
    ran = unlocks_ahead(lambda **kwargs: begun.update(early._begun) or "ran")
    assert ran(acting_username="kabid", passphrase_file=None, shares=()) == "ran"
    return begun


def test_the_grant_takes_the_unlock_begun_when_the_command_started(office, monkeypatch):  # type: ignore[no-untyped-def]
    early.forget()
    docs = [register(office, f"Operasi Senyap {i}") for i in range(2)]
    join_kabid2(office)
    begun = _begin_as_the_command_does(office, monkeypatch, PASSPHRASES["kabid"])
    key = HolderKey.objects.get(holder=office.users["kabid"])
    assert list(begun) == [early._key(bytes(key.protected_identity), PASSPHRASES["kabid"])]
    summary = grants.key_grant(actor=office.users["kabid"], to="kabid2",
                               passphrase=PASSPHRASES["kabid"])
    assert (summary.files, summary.failed) == (2, [])
    assert early._begun == {}  # taken by the grant: the same bytes, the same passphrase
    for d in docs:
        d.refresh_from_db()
        assert open_doc(office, "kabid2", d.agenda, KABID2_PASSPHRASE) == \
            open_doc(office, "kabid", d.agenda, PASSPHRASES["kabid"])


def test_an_unlock_begun_with_another_passphrase_is_not_the_grants(office, monkeypatch):  # type: ignore[no-untyped-def]
    """Begun with a wrong passphrase (the file's), the grant given the right one unlocks
    itself; given the same wrong one, it fails as it always did."""
    early.forget()
    register(office, "Operasi Senyap")
    join_kabid2(office)
    _begin_as_the_command_does(office, monkeypatch, "bukan frasa sandi ini")
    with pytest.raises(CryptoFailure) as refused:
        grants.key_grant(actor=office.users["kabid"], to="kabid2",
                         passphrase="bukan frasa sandi ini")
    assert refused.value.code == "passphrase_wrong" and early._begun == {}
    _begin_as_the_command_does(office, monkeypatch, "bukan frasa sandi ini")
    summary = grants.key_grant(actor=office.users["kabid"], to="kabid2",
                               passphrase=PASSPHRASES["kabid"])
    assert (summary.files, summary.failed) == (1, [])
    assert len(early._begun) == 1  # never taken: not the grant's passphrase
    early.forget()


def test_a_copy_handed_to_a_worker_that_never_ran_is_removed(office):  # type: ignore[no-untyped-def]
    """Review of s16 D: ``take`` hands a file's copy to a worker's task; a task cancelled
    before it ran (the grant interrupted: ``_headers_ahead`` cancels what has not begun)
    never writes its header nor removes the copy, and ``discard`` must still remove it."""
    from brankas.web.keys.selectors import Purpose, recipients_adding

    register(office, "Operasi Senyap 1")
    register(office, "Operasi Senyap 2")
    join_kabid2(office)
    actor = office.users["kabid"]
    _grantee, key = grants._grantee_key("kabid2")
    keys = list(HolderKey.objects.filter(holder=actor, revoked_at__isnull=True))
    unlocking: Future[dict[str, Any]] = Future()
    opening = grants._Opening(via=actor.username, candidates={k.fingerprint for k in keys},
                              unlocking=unlocking, target="kabid2")
    files = list(grants._all_files())

    def readers_of(stored):  # type: ignore[no-untyped-def]
        return recipients_adding(stored.recipients, key, purpose=Purpose.DOCUMENT)

    ahead = grants._Ahead()
    with engine.archive_exclusive():
        try:
            ahead.start(files, readers_of=readers_of, opening=opening)
            copies = [copy for _recipients, copy in ahead._copies.values()]
            wait(copies)
            assert all(isinstance(c.result(), Precopied) for c in copies)
            assert len(_staging(office)) == 2
            handed = ahead.take(files[0], readers_of(files[0]).age())
            assert handed is not None  # to a task that is then cancelled: never run
        finally:
            unlocking.set_result({})
            ahead.discard()
    assert _staging(office) == []



def test_a_copy_ahead_refused_for_room_leaves_the_file_to_the_usual_way(office, tmp_path):  # type: ignore[no-untyped-def]
    """Review of s16 D: a payload copied ahead takes room in tmp/ (up to 512 MiB) that the
    grant, as before, did not need at once. A copy that found tmp/ full must not make its
    file fail: the file takes the usual way when its turn comes, as without the copy
    (here the room is back by then), and nothing is left. The data folder on a small
    tmpfs (tests/tmpfs.py): tmp/ and the archive on one file system, as always."""
    import shutil

    from brankas.core.register import metadata
    from brankas.core.register.intake import InputFile
    from brankas.web.documents.services import document_register
    from tests.conftest import make_pdf
    from tests.tmpfs import mount_tmpfs

    saved = tmp_path / "saved-home"
    shutil.copytree(office.home, saved)
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "16m")
    try:
        shutil.copytree(saved, mnt, dirs_exist_ok=True)
        subprocess.run(["mount", "--bind", str(mnt), str(office.home)], check=True)
        try:
            docs = []
            for i in range(3):
                meta = metadata.build(direction="penerimaan", classification="rahasia",
                                      number="1", doc_date="2026-11-20",
                                      subject=f"Operasi Senyap {i}", correspondent="Sekda")
                pdf = make_pdf(text=f"Operasi Senyap {i} " + os.urandom(256 << 10).hex())
                docs.append(document_register(actor=office.users["operator"], meta=meta,
                                              files=[InputFile.from_bytes("s.pdf", pdf)]))
            join_kabid2(office)
            actor = office.users["kabid"]
            grantee, key = grants._grantee_key("kabid2")
            keys = list(HolderKey.objects.filter(holder=actor, revoked_at__isnull=True))
            protected = [(k.fingerprint, bytes(k.protected_identity)) for k in keys]
            unlocking: Future[dict[str, Any]] = Future()
            opening = grants._Opening(via=actor.username,
                                      candidates={k.fingerprint for k in keys},
                                      unlocking=unlocking, target="kabid2")
            filler = office.home / "filler"
            with open(filler, "wb") as fh:  # tmp/ full while the key is being unlocked
                left = shutil.disk_usage(office.home).free - (64 << 10)
                while left > 0:
                    left -= fh.write(b"\0" * min(left, 1 << 20))
            refused: list[str] = []
            real_start = grants._Ahead.start

            def start(self, files, **kwargs):  # type: ignore[no-untyped-def]
                real_start(self, files, **kwargs)
                copies = [copy for _recipients, copy in self._copies.values()]
                wait(copies)
                refused.extend(c.exception().code for c in copies  # type: ignore[union-attr]
                               if c.exception() is not None)
                filler.unlink()  # the room is back when the unlock ends
                unlocking.set_result(grants._unlock(protected, PASSPHRASES["kabid"],
                                                    actor.username))

            grants._Ahead.start = start  # type: ignore[method-assign]
            try:
                with engine.archive_exclusive():
                    summary = grants._grant_locked(actor=actor, grantee=grantee, key=key,
                                                   opening=opening, on_progress=None)
            finally:
                grants._Ahead.start = real_start  # type: ignore[method-assign]
            assert refused == ["disk_full"] * 3  # every copy ahead refused for room
            assert (summary.files, summary.failed) == (3, []), summary.failed
            assert _staging(office) == []
            for d in docs:
                d.refresh_from_db()
                assert d.file_version == 2
        finally:
            subprocess.run(["umount", str(office.home)], check=False)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
