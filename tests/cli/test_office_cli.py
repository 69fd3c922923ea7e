"""``brankas office show`` and ``brankas office set`` (issue 14): the admin edits the
profile, every change audited, the logo checked and stored as PNG; other roles refused."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3

from PIL import Image


def _jpeg(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "logo.jpg"
    image = Image.new("RGB", (80, 100), "navy")
    out = io.BytesIO()
    image.save(out, format="JPEG", comment=b"hostile bytes")
    path.write_bytes(out.getvalue() + b"trailing data after the image")
    return path


def _audit(home, action):  # type: ignore[no-untyped-def]
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return [json.loads(d) for (d,) in db.execute(
            "select detail from audit_auditevent where action = ? order by seq", (action,))]


def test_the_admin_sets_the_profile_and_each_change_is_audited(cli_office, cli_home,  # type: ignore[no-untyped-def]
                                                                run_cli, tmp_path) -> None:
    logo = _jpeg(tmp_path)
    r = run_cli("office", "set", "--government", "Pemerintah Kabupaten Bolaang Mongondow",
                "--place", "Lolak", "--sop-number", "800/123/DKI/2025",
                "--sop-effective-on", "2025-01-02", "--logo", str(logo), "--json",
                user="admin")
    assert r.returncode == 0, r.stderr
    shown = r.json()
    assert shown["government"] == "Pemerintah Kabupaten Bolaang Mongondow"
    assert shown["signature_place"] == "Lolak" and shown["sop_effective_on"] == "2025-01-02"
    assert shown["logo"]["type"] == "image/png"
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:
        (stored,) = db.execute("select logo from accounts_office").fetchone()
    assert stored.startswith(b"\x89PNG") and b"hostile" not in stored
    assert b"trailing data" not in stored
    assert shown["logo"]["sha256"] == hashlib.sha256(stored).hexdigest()
    [entry] = _audit(cli_home, "office.update")
    assert entry["changed"]["place"] == ["", "Lolak"]
    assert entry["changed"]["sop_number"] == ["", "800/123/DKI/2025"]
    assert entry["changed"]["logo"] == [None, shown["logo"]["sha256"]]

    r = run_cli("office", "set", "--no-logo", "--place", "", user="admin")
    assert r.returncode == 0, r.stderr
    second = _audit(cli_home, "office.update")[1]["changed"]
    assert second == {"place": ["Lolak", ""], "logo": [shown["logo"]["sha256"], None]}

    r = run_cli("office", "show", "--json", user="kasi")  # anyone may read it
    assert r.returncode == 0 and r.json()["logo"] is None
    r = run_cli("office", "show", user="kasi", env={"BRANKAS_LANG": "id"})
    assert "800/123/DKI/2025" in r.stdout and "nomor SOP" in r.stdout
    r = run_cli("office", "show", user="kasi", env={"BRANKAS_LANG": "en"})  # one language
    assert "SOP number" in r.stdout and "nomor SOP" not in r.stdout, r.stdout
    assert "place of signing" in r.stdout and "tempat penandatanganan" not in r.stdout


def test_other_roles_are_refused_and_bad_input_is_named(cli_office, cli_home, run_cli,  # type: ignore[no-untyped-def]
                                                        tmp_path) -> None:
    r = run_cli("office", "set", "--place", "Kotamobagu", user="kabid")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    assert _audit(cli_home, "office.update") == []
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    r = run_cli("office", "set", "--logo", str(fake), user="admin")
    assert r.returncode == 1 and "PNG or JPEG" in r.stderr
    r = run_cli("office", "set", "--sop-made-on", "5/12/2026", user="admin")
    assert r.returncode == 1 and "YYYY-MM-DD" in r.stderr
    r = run_cli("office", "set", "--email", "bukan-alamat", user="admin")
    assert r.returncode == 1 and "e-mail" in r.stderr
    r = run_cli("office", "set", "--name", "  ", user="admin")
    assert r.returncode == 1 and "required" in r.stderr
    r = run_cli("office", "set", "--logo", str(fake), "--no-logo", user="admin")
    assert r.returncode == 2
    assert _audit(cli_home, "office.update") == []


def test_the_office_command_s_usage_errors_are_in_one_language(cli_office, run_cli,  # type: ignore[no-untyped-def]
                                                                tmp_path) -> None:
    logo = _jpeg(tmp_path)
    for lang, words, other in (("id", "jangan keduanya", "exclude"),
                               ("en", "not both", "tidak bisa")):
        r = run_cli("office", "set", "--logo", str(logo), "--no-logo", user="admin",
                    env={"BRANKAS_LANG": lang})
        first = r.stderr.splitlines()[0]
        assert r.returncode == 2 and words in first and other not in first, r.stderr
        assert "penggunaan salah" not in first and "wrong usage" not in first, r.stderr
