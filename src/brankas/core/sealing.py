"""Sealed register fields (issue 16): the subject, notes and attachments of an exempted
document or request letter stored only age-encrypted, never in plain text.

A sealed row keeps its sealed columns empty and carries, in one JSON column, one age file
per sealed field (binary age, base64 in the JSON) and the key fingerprints it was
encrypted to::

    {"subject": {"to": ["<fp>", ...], "age": "<base64 of an age file>"}, ...}

One age file per field (not one per row) so that a request's sealed subject can be
carried as it is to the document its letter becomes (the Sandiman who registers it holds
no key), and so that search decrypts the subject alone. This module is plain Python: the
recipients come from ``brankas.web.keys.selectors.recipients_for`` (the one answer to "who
receives an exempted file"), the identities from a holder's passphrase or the recovery key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from brankas.core.errors import SetupError

# What everyone sees where a sealed value would be (Indonesian: the register's language;
# the web translates it, "sealed").
SEALED_LABEL = "tersegel"

# The register fields that may be sealed, and their names on a request to send.
SEALABLE = ("subject", "notes", "attachments", "correspondent")
DEFAULT_SEALED = frozenset({"subject", "notes", "attachments"})
REQUEST_FIELD = {"subject": "subject", "notes": "notes", "correspondent": "addressee"}

Sealed = dict[str, dict[str, Any]]


def parse_fields(raw: str | None) -> frozenset[str]:
    """``BRANKAS_SEALED_FIELDS``: a comma-separated list of SEALABLE fields; ``none``
    switches sealing off (the control case of the tests, an office that decides so)."""
    if raw is None or not raw.strip():
        return DEFAULT_SEALED
    if raw.strip().lower() == "none":
        return frozenset()
    fields = frozenset(p.strip().lower() for p in raw.split(",") if p.strip())
    if not fields <= set(SEALABLE):
        raise SetupError("config_invalid", name="BRANKAS_SEALED_FIELDS",
                         detail="none, or a comma-separated list of " + ", ".join(SEALABLE))
    return fields


def seal_value(text: str, recipients: Sequence[str], fingerprints: Sequence[str]
               ) -> dict[str, Any]:
    """One field's sealed form: an age file to ``recipients`` (age1...), base64."""
    import pyrage  # here: the CLI's start-up does not pay for it (docs/benchmarks.md)

    blob = pyrage.encrypt(text.encode("utf-8"), [pyrage.x25519.Recipient.from_str(r)
                                                 for r in recipients])
    return {"to": list(fingerprints), "age": base64.b64encode(blob).decode("ascii")}


def open_value(entry: Mapping[str, Any], identities: Sequence[Any]) -> str:
    """The plain text of one sealed field (raises when no identity opens it)."""
    import pyrage

    return pyrage.decrypt(base64.b64decode(entry["age"]), list(identities)).decode("utf-8")


def age_bytes(entry: Mapping[str, Any]) -> bytes:
    """The field's age file as stored (binary age: ``age -d`` opens it)."""
    return base64.b64decode(entry["age"])


def opens(entry: Mapping[str, Any], fingerprints: Iterable[str]) -> bool:
    """Whether one of ``fingerprints`` is among the field's recipients."""
    return not set(entry.get("to", ())).isdisjoint(fingerprints)


def contains(haystack: str, needle: str) -> bool:
    """The search's match on a sealed value: case-insensitive substring, like the
    database's ``icontains`` on the other columns."""
    return needle.casefold() in haystack.casefold()


class SealedRow:
    """What a model with sealed fields (a document, a request to send) offers its pages:
    ``shown(field)`` is the value revealed to an unlocked holder (``reveal``), else the
    label where the field is sealed, else the column. Revealed values live on the Python
    object only (``_revealed``), never in a column: saving the row never writes them."""

    sealed: dict[str, dict[str, Any]]
    FIELD_ATTRS: Mapping[str, str] = {}

    def is_sealed(self, field: str) -> bool:
        return field in (self.sealed or {})

    @property
    def any_sealed(self) -> bool:
        return bool(self.sealed)

    def revealed(self, field: str) -> bool:
        return field in getattr(self, "_revealed", {})

    def reveal(self, values: Mapping[str, str]) -> None:
        self._revealed = {**getattr(self, "_revealed", {}), **values}

    def shown(self, field: str, label: str = SEALED_LABEL) -> str:
        revealed: dict[str, str] = getattr(self, "_revealed", {})
        if field in revealed:
            return revealed[field]
        if self.is_sealed(field):
            return label
        return str(getattr(self, self.FIELD_ATTRS.get(field, field), ""))
