"""The office's seal on a backup run, and the anchors that prove the office's key."""

from __future__ import annotations

import json

import pytest

from brankas.core.crypto import generate as age_generate
from brankas.core.disk import seal as diskseal

RUNS = "backup"
MEDIUM = "0b5e3a7c-2f0e-4c55-9a39-1f2a3b4c5d6e"


def _statement(folder: str, number: int, files: dict[str, str], previous: str | None,
               snapshot: str | None = None) -> dict:
    return {"run": number, "folder": folder, "medium_id": MEDIUM, "medium_sha256": "m" * 64,
            "files": files, "snapshot": {"folder": snapshot or folder},
            "audit_head": {"seq": number * 10, "hash": "a" * 64}, "previous": previous}


def _disk(key: diskseal.OfficeKey, runs: int = 3) -> tuple[dict[str, diskseal.RunSeal],
                                                           dict[str, bytes]]:
    """A manifest's run folders and their seals, as a backup writes them."""
    entries: dict[str, str] = {}
    seals: dict[str, bytes] = {}
    previous = None
    for n in range(1, runs + 1):
        folder = f"{n:04d}_2026-12-0{n}T080000Z"
        files = {f"{RUNS}/{folder}/database.json.age": f"{n}" * 64,
                 f"{RUNS}/{folder}/daftar-kontrol.json": f"{n + 1}" * 64}
        entries.update(files)
        data = diskseal.seal_bytes(_statement(folder, n, files, previous), key)
        seals[folder] = data
        previous = diskseal.parse_seal(data).sha256
        entries[f"{RUNS}/{folder}/{diskseal.SEAL}"] = previous
    return diskseal.run_folders(entries, RUNS), seals


def _check(runs, seals, trusted) -> diskseal.SealReport:  # type: ignore[no-untyped-def]
    return diskseal.check_runs(runs, seals, trusted=trusted, medium_id=MEDIUM,
                               medium_sha256="m" * 64, runs_dir=RUNS)


def test_a_disk_sealed_by_the_office_is_authentic_and_names_its_snapshot() -> None:
    key = diskseal.generate()
    runs, seals = _disk(key)
    report = _check(runs, seals, {key.public})
    assert report.problems == []
    assert [r.status for r in report.runs] == ["authentic"] * 3
    assert report.snapshot_folder() == "0003_2026-12-03T080000Z"
    assert [h[:2] for h in report.audit_heads()] == [(1, 10), (2, 20), (3, 30)]


def test_a_seal_by_another_key_is_foreign_and_names_its_fingerprint() -> None:
    ours, theirs = diskseal.generate(), diskseal.generate()
    runs, seals = _disk(theirs)
    report = _check(runs, seals, {ours.public})
    assert {r.status for r in report.runs} == {"foreign"}
    assert report.newest is None
    assert theirs.fingerprint in report.problems[0]


def test_a_changed_statement_or_signature_does_not_check() -> None:
    key = diskseal.generate()
    runs, seals = _disk(key)
    folder = "0002_2026-12-02T080000Z"
    body = json.loads(seals[folder])
    body["statement"] = body["statement"].replace('"seq":20', '"seq":21')
    seals[folder] = json.dumps(body).encode()
    report = _check(runs, seals, {key.public})
    assert report.run(folder).status == "invalid"
    assert "signature does not check" in " ".join(report.problems)


def test_a_file_that_is_not_the_one_sealed_is_named() -> None:
    key = diskseal.generate()
    runs, seals = _disk(key)
    folder = "0003_2026-12-03T080000Z"
    runs[folder].files[f"{RUNS}/{folder}/database.json.age"] = "f" * 64  # manifests "fixed"
    report = _check(runs, seals, {key.public})
    assert report.run(folder).status == "invalid"
    assert any("database.json.age is not what the office sealed" in p for p in report.problems)


def test_a_seal_moved_to_another_folder_or_disk_is_refused() -> None:
    key = diskseal.generate()
    runs, seals = _disk(key)
    old, new = "0001_2026-12-01T080000Z", "0003_2026-12-03T080000Z"
    seals[new] = seals[old]  # the older run's seal put in the newest folder
    report = _check(runs, seals, {key.public})
    assert report.run(new).status == "invalid"
    report = diskseal.check_runs(*_disk(key), trusted={key.public}, medium_id="other",
                                 medium_sha256="m" * 64, runs_dir=RUNS)
    assert all(r.status == "invalid" for r in report.runs)
    assert "sealed for another disk" in report.problems[0]


def test_a_sealed_run_taken_out_of_the_middle_breaks_the_chain() -> None:
    key = diskseal.generate()
    runs, seals = _disk(key)
    del runs["0002_2026-12-02T080000Z"]
    report = _check(runs, seals, {key.public})
    assert any("0003" in p and "missing from this disk" in p for p in report.problems)


def test_fingerprints_are_long_and_typed_any_way() -> None:
    key = diskseal.generate()
    fp = key.fingerprint
    assert len(fp.replace("-", "")) == 32
    assert diskseal.normalize_fingerprint(fp.upper().replace("-", " ")) == fp
    assert diskseal.normalize_fingerprint(fp[:-1]) is None


def test_an_anchor_checks_only_with_the_identity_that_made_it() -> None:
    key = diskseal.generate()
    holder, other = age_generate(), age_generate()
    data = diskseal.anchor_bytes(public=key.public, office="Kantor", holder="kabid",
                                 secret=holder.identity)
    statement = diskseal.anchor_open(data, holder.identity)
    assert statement is not None and statement["office_key"] == key.public
    assert diskseal.anchor_open(data, other.identity) is None
    # An attacker who swaps the key in the anchor cannot fix the tag.
    forged = json.loads(data)
    forged["statement"] = forged["statement"].replace(key.public, diskseal.generate().public)
    assert diskseal.anchor_open(json.dumps(forged).encode(), holder.identity) is None


@pytest.mark.parametrize("data", [b"", b"{}", b"not json", b'{"format": "brankas-seal/1"}',
                                  b'{"format":"brankas-seal/1","statement":"{}","key":"!",'
                                  b'"signature":"x"}'])
def test_garbage_is_not_a_seal(data: bytes) -> None:
    with pytest.raises(ValueError):
        diskseal.parse_seal(data)
