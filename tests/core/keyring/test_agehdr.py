"""The age header written by Brankas (``keyring.agehdr``): the C2SP CCTV age test vectors,
and interop both ways with the ``age`` tool and the age library (pyrage)."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrage import x25519

from brankas.core import crypto
from brankas.core.keyring import agehdr

TESTKIT = Path(__file__).resolve().parents[2] / "fixtures" / "age-testkit"
KIB64 = 64 * 1024


@dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    identities: tuple[str, ...]
    payload_sha256: str | None
    file_key: bytes | None
    stored: bytes  # the age file as the testkit stores it (zlib-compressed when ``packed``)
    packed: bool = False

    @functools.cached_property
    def age(self) -> bytes:
        """The age file itself, unpacked when a test first reads it (50 MB for the whole
        kit: not in every pytest process's collection)."""
        return zlib.decompress(self.stored) if self.packed else self.stored


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.decode("utf-8").splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    return Vector(name=path.name, expect=fields["expect"][0],
                  identities=tuple(fields.get("identity", [])),
                  payload_sha256=fields.get("payload", [None])[0],
                  file_key=bytes.fromhex(fields["file key"][0]) if "file key" in fields
                  else None, stored=body, packed=fields.get("compressed") == ["zlib"])


VECTORS = sorted((load(p) for p in TESTKIT.iterdir() if p.name not in
                  ("README.md", ".gitattributes")), key=lambda v: v.name)


def by_expect(*expects: str) -> list[Vector]:
    return [v for v in VECTORS if v.expect in expects]


def ids(vectors: list[Vector]) -> list[str]:
    return [v.name for v in vectors]


def rewrap(data: bytes, identities: list[bytes], recipients: list[str]) -> bytes:
    out = io.BytesIO()
    agehdr.rewrap_stream(io.BufferedReader(io.BytesIO(data)), out, identities, recipients)
    return out.getvalue()


def secrets_of(vector: Vector) -> list[bytes]:
    return [crypto.identity_secret(i) for i in vector.identities]


def test_the_vendored_testkit_is_complete():
    """Every X25519 binary vector of CCTV's age testkit is here (67 at the commit copied),
    and every kind of outcome this module must tell apart is among them."""
    assert len(VECTORS) == 67
    assert {v.expect for v in VECTORS} == {"success", "header failure", "HMAC failure",
                                           "no match", "payload failure"}
    assert all(v.identities and all(i.startswith("AGE-SECRET-KEY-1") for i in v.identities)
               for v in VECTORS if v.name != "empty")


@pytest.mark.parametrize("vector", by_expect("success"), ids=ids(by_expect("success")))
def test_success_vectors_unwrap_and_a_rewrapped_copy_decrypts_to_the_payload(vector):
    header = agehdr.read_header(io.BufferedReader(io.BytesIO(vector.age)))
    # the parsed header encodes back to the same bytes (minus grease: re-encoded as read)
    again = agehdr.VERSION_LINE + b"".join(agehdr.encode_stanza(s) for s in header.stanzas)
    assert again + b"---" == header.mac_input
    file_key = agehdr.unwrap_file_key(header, secrets_of(vector))
    assert file_key == vector.file_key
    new = x25519.Identity.generate()
    out = rewrap(vector.age, secrets_of(vector), [str(new.to_public())])
    new_header = agehdr.read_header(io.BufferedReader(io.BytesIO(out)))
    assert out[new_header.size:] == vector.age[header.size:]  # the payload byte for byte
    plain = crypto.decrypt_bytes(out, [new])
    assert hashlib.sha256(plain).hexdigest() == vector.payload_sha256
    # the new header holds X25519 stanzas only (grease and others dropped)
    assert [s.type for s in new_header.stanzas] == ["X25519"]


HEADER_FAILURES = by_expect("header failure")


@pytest.mark.parametrize("vector", HEADER_FAILURES, ids=ids(HEADER_FAILURES))
def test_header_failure_vectors_are_refused(vector):
    new = x25519.Identity.generate()
    with pytest.raises((agehdr.HeaderInvalid, agehdr.PayloadInvalid)) as caught:
        rewrap(vector.age, secrets_of(vector), [str(new.to_public())])
    if not vector.name.startswith("stream_"):  # a missing nonce is the payload's
        assert isinstance(caught.value, agehdr.HeaderInvalid)


@pytest.mark.parametrize("vector", by_expect("HMAC failure"), ids=ids(by_expect("HMAC failure")))
def test_hmac_failure_vectors_are_refused(vector):
    header = agehdr.read_header(io.BufferedReader(io.BytesIO(vector.age)))
    with pytest.raises(agehdr.MacMismatch):
        agehdr.unwrap_file_key(header, secrets_of(vector))


@pytest.mark.parametrize("vector", by_expect("no match"), ids=ids(by_expect("no match")))
def test_no_match_vectors_are_refused(vector):
    header = agehdr.read_header(io.BufferedReader(io.BytesIO(vector.age)))
    with pytest.raises(agehdr.NoMatch):
        agehdr.unwrap_file_key(header, secrets_of(vector))


PAYLOAD_FAILURES = by_expect("payload failure")


@pytest.mark.parametrize("vector", PAYLOAD_FAILURES, ids=ids(PAYLOAD_FAILURES))
def test_a_payload_failure_stays_a_failure_after_the_rewrap(vector, tmp_path):
    """The header is fine, the payload is damaged: either the rewrap refuses it (its
    length cannot be STREAM chunks) or the rewrapped copy fails to open, with the age
    library and with the age tool alike. A rewrap never makes a bad file good."""
    new = x25519.Identity.generate()
    try:
        out = rewrap(vector.age, secrets_of(vector), [str(new.to_public())])
    except agehdr.PayloadInvalid:
        return
    with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage.DecryptError
        crypto.decrypt_bytes(out, [new])
    key = tmp_path / "new.key"
    key.write_text(str(new) + "\n")
    done = subprocess.run(["age", "-d", "-i", str(key)], input=out, capture_output=True)
    assert done.returncode != 0


def test_the_vector_counts():
    """How many of each kind run above (reported in docs/security.md)."""
    counts = {e: len(by_expect(e)) for e in
              ("success", "header failure", "HMAC failure", "no match", "payload failure")}
    assert counts == {"success": 14, "header failure": 31, "HMAC failure": 1,
                      "no match": 3, "payload failure": 18}


# -- beyond the vectors --------------------------------------------------------------------

def header_of(text: bytes) -> agehdr.Header:
    return agehdr.read_header(io.BufferedReader(io.BytesIO(text)))


def test_a_header_larger_than_the_bound_is_refused_without_reading_on():
    big = agehdr.VERSION_LINE + b"-> grease\n" + (b"A" * 64 + b"\n") * 2000 + b"\n"
    src = io.BufferedReader(io.BytesIO(big + b"--- " + b"A" * 43 + b"\n"))
    with pytest.raises(agehdr.HeaderInvalid, match="larger"):
        agehdr.read_header(src)
    assert src.tell() <= agehdr.MAX_HEADER + io.DEFAULT_BUFFER_SIZE


def test_a_single_line_without_end_is_refused_within_the_bound():
    src = io.BufferedReader(io.BytesIO(agehdr.VERSION_LINE + b"-> " + b"x" * (1 << 20)))
    with pytest.raises(agehdr.HeaderInvalid, match="larger"):
        agehdr.read_header(src)


def test_a_scrypt_file_is_refused():
    from tests.agefile import passphrase_encrypt  # an age -p file, at a small work factor

    data = passphrase_encrypt(b"AGE-SECRET-KEY-1...\n", "a passphrase")
    header = header_of(data)
    with pytest.raises(agehdr.HeaderInvalid, match="scrypt"):
        agehdr.unwrap_file_key(header, [os.urandom(32)])


def test_stanza_bodies_of_every_length_encode_canonically_and_parse_back():
    for n in range(0, 200):
        stanza = agehdr.Stanza(("grease", "x"), os.urandom(n))
        text = agehdr.VERSION_LINE + agehdr.encode_stanza(stanza) + b"--- " + b"A" * 43 + b"\n"
        assert header_of(text).stanzas == (stanza,)


def test_a_new_header_uses_a_fresh_ephemeral_share_per_stanza_and_file():
    r = str(x25519.Identity.generate().to_public())
    key = os.urandom(16)
    one, two = agehdr.build_header(key, [r, r]), agehdr.build_header(key, [r])
    shares = [s.args[1] for h in (one, two) for s in header_of(h).stanzas]
    assert len(set(shares)) == 3


def test_a_wrong_recipient_string_is_refused():
    from brankas.core.errors import InvalidInput

    good = str(x25519.Identity.generate().to_public())
    bad = good[:-1] + ("q" if good[-1] != "q" else "p")
    with pytest.raises(InvalidInput):
        agehdr.build_header(os.urandom(16), [bad])


@pytest.mark.parametrize("size", [0, 1, KIB64 - 1, KIB64, KIB64 + 1, 3 * KIB64, 1 << 20])
def test_a_file_made_by_age_is_rewrapped_here_and_opened_by_age(tmp_path, size):
    """age → Brankas → age: the standard tool encrypts (to two recipients), Brankas
    rewraps the header for a third, the standard tool opens it with the third's key."""
    old, other, new = (x25519.Identity.generate() for _ in range(3))
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(size))
    src = tmp_path / "by-age.age"
    subprocess.run(["age", "-r", str(old.to_public()), "-r", str(other.to_public()),
                    "-o", str(src), str(plain)], check=True)
    out = tmp_path / "rewrapped.age"
    out.write_bytes(rewrap(src.read_bytes(), agehdr.identity_secrets([old]),
                           [str(other.to_public()), str(new.to_public())]))
    for ident in (new, other):
        key = tmp_path / "k.key"
        key.write_text(str(ident) + "\n")
        opened = subprocess.run(["age", "-d", "-i", str(key), str(out)],
                                capture_output=True, check=True).stdout
        assert opened == plain.read_bytes()
    key.write_text(str(old) + "\n")  # old was not among the new readers
    assert subprocess.run(["age", "-d", "-i", str(key), str(out)],
                          capture_output=True).returncode != 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.integers(min_value=0, max_value=4),
       extra=st.sampled_from([0, 1, 2, 15, 16, 17, KIB64 - 1]),
       readers=st.integers(min_value=1, max_value=4))
def test_a_file_made_by_the_age_library_is_rewrapped_and_opened_by_it(chunks, extra, readers):
    """Random sizes, 0 bytes and exact multiples of 64 KiB among them: pyrage encrypts,
    Brankas rewraps for 1 to 4 new readers, each opens it with pyrage; the payload is
    unchanged and the old reader is gone."""
    data = os.urandom(chunks * KIB64 + extra)
    old = x25519.Identity.generate()
    news = [x25519.Identity.generate() for _ in range(readers)]
    src = crypto.encrypt_bytes(data, [str(old.to_public())])
    out = rewrap(src, agehdr.identity_secrets([old]), [str(n.to_public()) for n in news])
    old_size, new_size = header_of(src).size, header_of(out).size
    assert out[new_size:] == src[old_size:]
    for n in news:
        assert crypto.decrypt_bytes(out, [n]) == data
    with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage: not a recipient any more
        crypto.decrypt_bytes(out, [old])


def test_a_file_rewrapped_here_opens_with_the_age_tool_after_two_rewraps(tmp_path):
    """Brankas's own headers are read back by Brankas (a second grant) and by age."""
    a, b, c = (x25519.Identity.generate() for _ in range(3))
    data = os.urandom(5 * KIB64)
    first = rewrap(crypto.encrypt_bytes(data, [str(a.to_public())]),
                   agehdr.identity_secrets([a]), [str(a.to_public()), str(b.to_public())])
    second = rewrap(first, agehdr.identity_secrets([b]),
                    [str(a.to_public()), str(b.to_public()), str(c.to_public())])
    key = tmp_path / "c.key"
    key.write_text(str(c) + "\n")
    assert subprocess.run(["age", "-d", "-i", str(key)], input=second, capture_output=True,
                          check=True).stdout == data


def test_a_changed_header_byte_is_caught_by_the_mac():
    a, b = x25519.Identity.generate(), x25519.Identity.generate()
    src = crypto.encrypt_bytes(b"x" * 1000, [str(a.to_public()), str(b.to_public())])
    header = header_of(src)
    # swap the two stanzas: still a valid grammar, a file key still unwraps, MAC differs
    lines = src[:header.size].split(b"\n")
    swapped = b"\n".join([lines[0], lines[3], lines[4], lines[1], lines[2], *lines[5:]])
    assert swapped != src[:header.size]
    with pytest.raises(agehdr.MacMismatch):
        rewrap(swapped + src[header.size:], agehdr.identity_secrets([a]),
               [str(b.to_public())])
