"""Usage errors of the command line are worded like every other error: ``brankas: ...`` in
the user's language (BRANKAS_LANG), no sentence of click's own, exit status 2."""

from __future__ import annotations

import re

import pytest

from tests.conftest import cli

# (arguments, what the Indonesian message says, what the English one says)
CASES = [
    (["register", "x.pdf", "--direction", "keluar", "--classification", "biasa", "--number",
      "1", "--date", "2026-11-20", "--subject", "s", "--correspondent", "c"],
     "arah keluar tidak dikenal", "unknown direction keluar"),
    (["list", "--classification", "rahsia"],
     "klasifikasi rahsia tidak dikenal", "unknown classification rahsia"),
    (["audit", "list", "--outcome", "bagus"],
     "nilai bagus untuk --outcome tidak dikenal", "unknown value bagus for --outcome"),
    (["list", "--bogus"], "opsi --bogus tidak dikenal", "no such option: --bogus"),
    (["lst"], "perintah lst tidak dikenal", "no such command: lst"),
    (["report", "create"], "KIND wajib diberikan", "KIND is required"),
    (["report", "show", "abc"], "nilai NUMBER tidak sah: abc", "invalid value for NUMBER: abc"),
    (["list", "extra"], "argumen berlebih: extra", "unexpected extra arguments: extra"),
    (["report", "verify", "tidak-ada.pdf"],
     "tidak-ada.pdf tidak ditemukan", "tidak-ada.pdf does not exist"),
    (["init", "--office", "K", "--admin", "a", "--recovery-shares", "3"],
     "harus diberikan bersama", "go together"),
]
# What click says in English: none of it may be shown in either language.
CLICK_WORDS = re.compile(r"Usage:|Error:|Invalid value|No such|Missing (argument|option)|"
                         r"is not one of|Try '|Got unexpected")


@pytest.mark.parametrize("args,indonesian,english", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_usage_errors_in_both_languages(tmp_path, args, indonesian, english) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    for lang, expected in (("id", indonesian), ("en", english)):
        r = cli(home, tmp_path, *args, env={"BRANKAS_LANG": lang})
        assert r.returncode == 2, (lang, r.stderr)
        first = r.stderr.splitlines()[0]
        assert first.startswith("brankas: "), (lang, r.stderr)
        assert expected in first, (lang, r.stderr)
        assert not CLICK_WORDS.search(r.stderr), (lang, r.stderr)
        assert r.stdout == ""
    r = cli(home, tmp_path, *args, env={"BRANKAS_LANG": "id"})
    assert re.search(r"^Bantuan: .*brankas.* --help$", r.stderr, re.M), r.stderr


def test_help_and_version_still_exit_zero(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = cli(tmp_path / "home", tmp_path, "--version")
    assert r.returncode == 0 and "brankas" in r.stdout
    r = cli(tmp_path / "home", tmp_path, "report", "--help")
    assert r.returncode == 0 and "report" in r.stdout


def test_as_a_real_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = cli(tmp_path / "home", tmp_path, "list", "--direction", "masuk", process=True,
            env={"BRANKAS_LANG": "id"})
    assert r.returncode == 2
    assert r.stderr.startswith("brankas: arah masuk tidak dikenal")
