"""The manifest and sizes held in one map (``disk.listing``): the two mappings behave as
the two dicts they replace, and the lists written from them are byte for byte the lists
``format.payload_chunks`` writes from those dicts."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brankas.core.disk import format as bagformat
from brankas.core.disk.listing import Listing

paths = st.text(alphabet="ab/%\n.é", min_size=1, max_size=6)
digests = st.binary(min_size=1, max_size=4).map(lambda b: hashlib.sha256(b).hexdigest())
# An operation on the two mappings: (which, path, value); value None means delete.
ops = st.lists(st.tuples(st.sampled_from(["entries", "sizes"]), paths,
                         st.one_of(st.none(), digests, st.integers(0, 2**40))), max_size=40)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_the_two_mappings_behave_as_two_dicts(steps: list[tuple[str, str, object]]) -> None:
    listing = Listing()
    entries: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for which, path, value in steps:
        if which == "entries" and isinstance(value, str):
            listing.entries[path] = value
            entries[path] = value
        elif which == "entries" and value is None and path in entries:
            del listing.entries[path]
            del entries[path]
            sizes.pop(path, None)  # a path dropped from the manifest drops its size
        elif which == "sizes" and isinstance(value, int) and path in entries:
            listing.sizes[path] = value
            sizes[path] = value
        elif which == "sizes" and isinstance(value, int):
            with pytest.raises(KeyError):  # only a listed path has a size
                listing.sizes[path] = value
        elif which == "sizes" and value is None:
            assert listing.sizes.pop(path, None) == sizes.pop(path, None)
    assert dict(listing.entries) == entries
    assert dict(listing.sizes) == sizes
    assert len(listing.sizes) == len(sizes) and sorted(listing.sizes.values()) == sorted(
        sizes.values())
    assert {p: listing.sizes.get(p) for p in entries} == {p: sizes.get(p) for p in entries}
    assert b"".join(listing.entries.chunks(lines=3)) == b"".join(
        bagformat.payload_chunks(entries))
    assert b"".join(listing.sizes.chunks(lines=3)) == b"".join(
        bagformat.payload_chunks(sizes))
    assert bagformat.oxum(listing.sizes) == bagformat.oxum(sizes)


def test_replacing_takes_the_dicts_given_and_keeps_only_listed_sizes() -> None:
    listing = Listing()
    a, b = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    manifest = {"arsip/a.pdf": a, "arsip/b.pdf": b}
    listing.replace_entries(manifest)
    assert manifest == {}  # taken, not held twice
    sizes = {"arsip/a.pdf": 10, "arsip/gone.pdf": 3}
    listing.replace_sizes(sizes)
    assert dict(listing.entries) == {"arsip/a.pdf": a, "arsip/b.pdf": b}
    assert dict(listing.sizes) == {"arsip/a.pdf": 10}
    assert "arsip/b.pdf" not in listing.sizes and listing.sizes.get("arsip/b.pdf") is None


def test_a_value_that_is_not_a_sha256_is_refused() -> None:
    listing = Listing()
    with pytest.raises(ValueError):
        listing.entries["arsip/a.pdf"] = "ab" * 20
    with pytest.raises(ValueError):
        listing.entries["arsip/a.pdf"] = "not hex"
    assert dict(listing.entries) == {}
