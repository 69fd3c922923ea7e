"""Property-based tests of the backup disk's manifest writer and reader (disk/format.py):
whatever the names, what is written reads back the same, and a damaged manifest is a
clear ``backup_bag_invalid``, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from brankas.core.disk import format as bagformat
from brankas.core.errors import SetupError

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Components as hostile as a file system allows: %, CR, LF, spaces, tabs, '*', unicode.
component = st.text(
    alphabet=st.one_of(st.sampled_from([*"aZ9 .-_*%\t\r\n#", "é", "\u202e", "😀", "\x0b",
                                        "\u2028", "\x85"]), st.characters(
        blacklist_categories=("Cs",), blacklist_characters="/")),
    min_size=1, max_size=20,
).filter(lambda c: c not in {".", ".."})
payload_path = st.lists(component, min_size=1, max_size=4).map("/".join)
digest = st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64)


@FAST
@given(st.text())
@example("%0A%0d%25%%")
def test_encode_then_decode_is_the_identity(text: str) -> None:
    encoded = bagformat.encode_path(text)
    assert "\n" not in encoded and "\r" not in encoded
    assert bagformat.decode_path(encoded) == text


def _safe(path: str) -> bool:
    return bagformat.check_payload_path(path) is None


@FAST
@given(st.dictionaries(payload_path, digest, max_size=12))
def test_payload_manifest_round_trips_safe_paths_and_names_the_others(
        tmp_path: Path, entries: dict[str, str]) -> None:
    """A disk is untrusted: a path that is not a safe payload path is never returned; the
    lenient reader names each such line, the strict one refuses the manifest."""
    (tmp_path / bagformat.MANIFEST).write_bytes(bagformat.payload_lines(entries))
    problems: list[str] = []
    assert bagformat.read_payload_manifest(tmp_path, problems) == {
        p: d.lower() for p, d in entries.items() if _safe(p)
    }
    assert len(problems) == sum(not _safe(p) for p in entries)
    if problems:
        with pytest.raises(SetupError) as refused:
            bagformat.read_payload_manifest(tmp_path)
        assert refused.value.code == "backup_bag_invalid"


@FAST
@given(st.dictionaries(payload_path, st.integers(min_value=0, max_value=2**63), max_size=12))
def test_sizes_round_trip(tmp_path: Path, sizes: dict[str, int]) -> None:
    (tmp_path / bagformat.SIZES).write_bytes(bagformat.payload_lines(sizes))
    assert bagformat.read_sizes(tmp_path) == {p: n for p, n in sizes.items() if _safe(p)}
    assert bagformat.oxum(sizes) == f"{sum(sizes.values())}.{len(sizes)}"


# Tag file names are Brankas's own (bag-info.txt, ...). A name that starts with white space
# or '*' is ambiguous in any BagIt manifest ("<checksum> <path>", one or more blanks).
tag_name = st.one_of(st.sampled_from(sorted(bagformat.TAG_NAMES)),
                     component.filter(lambda c: c[0] not in " \t*"))


@FAST
@given(st.dictionaries(tag_name, digest, max_size=8))
def test_tag_manifest_round_trips_only_brankas_tag_files(tmp_path: Path,
                                                         hashes: dict[str, str]) -> None:
    """Only Brankas's own tag files are taken from a tag manifest (a disk may not make a
    verifier read /dev/zero or a file outside it); any other name is noted."""
    (tmp_path / bagformat.TAGMANIFEST).write_bytes(bagformat.tag_lines(hashes))
    problems: list[str] = []
    assert bagformat.read_tag_manifest(tmp_path, problems) == {
        n: d.lower() for n, d in hashes.items() if n in bagformat.TAG_NAMES}
    assert len(problems) == sum(n not in bagformat.TAG_NAMES for n in hashes)


label = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp"),
                                       blacklist_characters=":"), min_size=1, max_size=20)


@FAST
@given(st.dictionaries(label, st.text(max_size=60), max_size=8))
def test_bag_info_round_trips_with_values_on_one_line(tmp_path: Path,
                                                      info: dict[str, str]) -> None:
    (tmp_path / bagformat.BAG_INFO).write_bytes(bagformat.bag_info_text(info))
    read = bagformat.read_bag_info(tmp_path)
    for key, value in info.items():
        # read_text splits lines on every Unicode line break: compare word by word.
        assert read[key].split() == value.split() or " ".join(read[key].split()) == " ".join(
            value.split())


@FAST
@given(st.binary(max_size=400))
@example(b"\xff\xfe not utf-8")
@example(b"0" * 64 + b"  data/a\n" + b"0" * 64 + b"  data/a\n")
@example(b"zz  data/a\n")
@example(b"0" * 64 + b"  elsewhere/a\n")
@example(b"no-separator\n")
def test_a_damaged_manifest_is_refused_cleanly(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / bagformat.MANIFEST).write_bytes(raw)
    try:
        result = bagformat.read_payload_manifest(tmp_path)
    except SetupError as exc:
        assert exc.code == "backup_bag_invalid"
        return
    for path, value in result.items():
        assert len(value) == 64 and value == value.lower()
        assert not path.startswith("/")


@FAST
@given(payload_path)
def test_a_path_the_writer_accepts_is_safe_and_round_trips(tmp_path: Path, path: str) -> None:
    if bagformat.check_payload_path(path) is not None:
        return
    assert "%" not in path and ".." not in path.split("/")
    (tmp_path / bagformat.MANIFEST).write_bytes(bagformat.payload_lines({path: "a" * 64}))
    assert bagformat.read_payload_manifest(tmp_path) == {path: "a" * 64}


@pytest.mark.parametrize("path", ["", "/abs", "a/../b", "a//b", "a/", "x%41", "CON",
                                  "a/nul.txt", "a\u202eb", "a/b."])
def test_unsafe_payload_paths_are_named(path: str) -> None:
    assert bagformat.check_payload_path(path)


@FAST
@given(st.lists(st.tuples(st.sampled_from(["arsip/biasa", "arsip/biasa/2025", "a", ""]),
                          component), max_size=12),
       st.lists(payload_path, max_size=6))
def test_folders_checked_once_give_the_same_answers(pairs: list[tuple[str, str]],
                                                    others: list[str]) -> None:
    """Planning remembers the folders whose names passed (``good_folders``) and checks
    only the file name of the next path in one: every answer is the full check's."""
    good: set[str] = set()
    for path in [f"{folder}/{name}" if folder else name for folder, name in pairs] + others:
        assert bagformat.check_payload_path(path, good) == bagformat.check_payload_path(path)
    assert all(bagformat.check_payload_path(folder) is None for folder in good)
