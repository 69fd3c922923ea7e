"""``brankas user deactivate|activate|role|reset-password|unlock|qualify|password`` through the
real command (issue 14), against the CLI office (a key for the Kabid)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import PASSWORDS

NEW = "Ganti-Sandi-2026!"


def _secret(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def test_deactivate_revokes_a_holder_and_the_user_can_no_longer_act(cli_office, run_cli):
    r = run_cli("user", "deactivate", "kabid", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["username"] == "kabid" and out["active"] is False
    assert len(out["revoked"]["fingerprints"]) == 1 and out["revoked"]["still_opens"] == []
    r = run_cli("user", "list", user="kabid")
    assert r.returncode == 1 and "wrong username or password" in r.stderr
    r = run_cli("key", "list", "--json", user="admin")
    assert [k["active"] for k in r.json() if k["holder"] == "kabid"] == [False]
    r = run_cli("user", "deactivate", "kabid", user="admin")
    assert r.returncode == 1 and "already inactive" in r.stderr
    r = run_cli("user", "activate", "kabid", user="admin")
    assert r.returncode == 0 and "reactivated: kabid" in r.stdout
    r = run_cli("user", "list", "--json", user="kabid")
    assert r.returncode == 1  # the Kabid signs in, and is refused the admin's list
    assert "may not manage users" in r.stderr


def test_the_admin_cannot_deactivate_themselves(cli_office, run_cli):
    r = run_cli("user", "deactivate", "admin", user="admin")
    assert r.returncode == 1 and "your own account" in r.stderr


def test_only_the_admin_administers(cli_office, run_cli, tmp_path):
    new = _secret(tmp_path, "new.pw", NEW)
    for args in (("deactivate", "kadis"), ("activate", "kadis"),
                 ("role", "kadis", "--role", "kabid"),
                 ("reset-password", "kadis", "--new-password-file", new),
                 ("unlock", "kadis"),
                 ("qualify", "operator", "--training", "Diklat Sandiman", "--date",
                  "2025-01-01")):
        r = run_cli("user", *args, user="kasi")
        assert r.returncode == 1 and "may not manage users" in r.stderr, args


def test_role_change_moves_a_holder_out_of_encryption(cli_office, run_cli):
    r = run_cli("user", "role", "kabid", "--role", "sandiman", user="admin")
    assert r.returncode == 0, r.stderr
    assert "kabid: kabid -> sandiman" in r.stdout and "keys revoked" in r.stdout
    r = run_cli("user", "role", "kasi", "--role", "kabid", "--json", user="admin")
    assert r.json() == {"username": "kasi", "role": "kabid", "old_role": "kasi",
                        "revoked": None}
    r = run_cli("user", "role", "admin", "--role", "kasi", user="admin")
    assert r.returncode == 1 and "last active admin" in r.stderr
    r = run_cli("user", "role", "kasi", "--role", "bupati", user="admin")
    assert r.returncode == 2  # not a choice


def test_a_reset_password_must_be_changed_before_anything_else(cli_office, run_cli, tmp_path,
                                                               cli_home):
    new = _secret(tmp_path, "new.pw", NEW)
    r = run_cli("user", "reset-password", "kadis", "--new-password-file", new, user="admin")
    assert r.returncode == 0, r.stderr
    reset_env = {"BRANKAS_USER": "kadis", "BRANKAS_PASSWORD": NEW}
    r = run_cli("list", env=reset_env)
    assert r.returncode == 1 and "password was reset by the admin" in r.stderr
    # Review of issue 14: the refusal is audited, as every refusal is.
    con = sqlite3.connect(cli_home / "brankas.sqlite3")
    rows = con.execute("SELECT actor, target, outcome, detail FROM audit_auditevent "
                       "WHERE action = 'access.denied'").fetchall()
    con.close()
    assert [(a, t, o, json.loads(d)["error"]) for a, t, o, d in rows] == [
        ("kadis", "brankas list", "denied", "password_change_required")]
    weak = _secret(tmp_path, "weak.pw", "pendek")
    r = run_cli("user", "password", "--new-password-file", weak, env=reset_env)
    assert r.returncode == 1 and "password refused" in r.stderr
    mine = _secret(tmp_path, "mine.pw", "Kadis-Sendiri-2026!")
    r = run_cli("user", "password", "--new-password-file", mine, env=reset_env)
    assert r.returncode == 0 and "password changed: kadis" in r.stdout
    r = run_cli("list", env={"BRANKAS_USER": "kadis", "BRANKAS_PASSWORD": "Kadis-Sendiri-2026!"})
    assert r.returncode == 0, r.stderr


def test_own_password_needs_the_current_one(cli_office, run_cli, tmp_path):
    new = _secret(tmp_path, "new.pw", NEW)
    r = run_cli("user", "password", "--new-password-file", new,
                env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": "salah"})
    assert r.returncode == 1 and "wrong username or password" in r.stderr
    r = run_cli("user", "password", "--new-password-file", new, user="operator")
    assert r.returncode == 0, r.stderr
    r = run_cli("list", user="operator")  # the old password no longer works
    assert r.returncode == 1
    r = run_cli("list", env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": NEW})
    assert r.returncode == 0, r.stderr


def test_unlock_after_a_command_line_lock_out(cli_office, run_cli):
    r = run_cli("user", "unlock", "kadis", user="admin")
    assert r.returncode == 1 and "not locked out" in r.stderr
    wrong = {"BRANKAS_USER": "kadis", "BRANKAS_PASSWORD": "salah"}
    for _ in range(5):
        run_cli("list", env=wrong)
    r = run_cli("list", user="kadis")
    assert r.returncode == 1 and "locked" in r.stderr
    r = run_cli("user", "list", "--json", user="admin")
    assert [u["locked"] for u in r.json() if u["username"] == "kadis"] == [True]
    r = run_cli("user", "unlock", "kadis", user="admin")
    assert r.returncode == 0 and "unlocked: kadis" in r.stdout
    assert run_cli("list", user="kadis").returncode == 0
    assert PASSWORDS["kadis"]  # the fixture's own password worked again


def test_qualify_records_a_qualification(cli_office, run_cli):
    r = run_cli("user", "qualify", "operator", "--training", "Diklat Sandiman",
                "--certificate", "12/DS/2025", "--date", "2025-06-30", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert (out["training"], out["certificate"], out["passed_on"]) == (
        "Diklat Sandiman", "12/DS/2025", "2025-06-30")
    r = run_cli("user", "list", "--json", user="admin")
    (operator,) = [u for u in r.json() if u["username"] == "operator"]
    assert [q["certificate"] for q in operator["qualifications"]] == ["12/DS/2025"]
    r = run_cli("user", "qualify", "operator", "--training", "Diklat Sandiman", "--date",
                "30-06-2025", user="admin")
    assert r.returncode == 1 and "date passed 30-06-2025 is invalid" in r.stderr
    r = run_cli("audit", "list", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert "user.qualify" in {e["action"] for e in r.json()}


def test_deactivating_a_holder_names_the_disks_whose_copies_still_open(backed_up_template,
                                                                       tmp_path):
    """The backed-up office (tests/cli/backup): two exempted documents on one disk,
    encrypted to the Kabid's key. Deactivating the Kabid says where they still open."""
    import shutil

    from tests.conftest import cli

    home = tmp_path / "home"
    shutil.copytree(backed_up_template.home, home)
    exempted = sorted(d.agenda for d in backed_up_template.docs.values() if d.exempted)
    r = cli(home, tmp_path, "user", "deactivate", "kabid", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    (disk,) = r.json()["revoked"]["still_opens"]
    assert disk["documents"] == exempted and disk["letters"] == []
    assert disk["medium_id"] == backed_up_template.first_run["medium"]["medium_id"]


def test_django_s_own_wording_follows_brankas_lang(cli_office, run_cli, tmp_path):
    """A password or user name refused by Django's validators: their sentences are in the
    language of BRANKAS_LANG like the rest of the message, not in the default Indonesian."""
    short = _secret(tmp_path, "short.pw", "abc")
    good = _secret(tmp_path, "good.pw", NEW)
    for lang, words, other in (("en", "too short", "terlalu pendek"),
                               ("id", "terlalu pendek", "too short")):
        r = run_cli("user", "add", "budi", "--role", "sandiman", "--password-file", short,
                    user="admin", env={"BRANKAS_LANG": lang})
        assert r.returncode == 1 and words in r.stderr and other not in r.stderr, r.stderr
    r = run_cli("user", "add", "bu di", "--role", "sandiman", "--password-file", good,
                user="admin", env={"BRANKAS_LANG": "en"})
    assert r.returncode == 1 and "Masukkan" not in r.stderr, r.stderr
