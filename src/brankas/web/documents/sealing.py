"""Sealed register fields (issue 16): sealing at registration, the holders' unlocked keys
kept in server memory only, revealing sealed values to them, and searching them.

- ``seal_into(row, values, recipients)``: at registration (CLI, web, import, a request),
  the configured fields of an exempted row go into ``row.sealed`` age-encrypted to the
  recipients ``recipients_for`` gave the file; their columns are left empty.
- ``unlock`` / ``lock`` / ``unlocked``: a holder's identities, unlocked with the passphrase,
  kept in this process's memory under a random token (the web session holds the token
  alone, never the key), dropped after ``BRANKAS_UNLOCK_IDLE_MINUTES`` idle, at sign-out,
  or on "lock". Audited (``sealed.unlock``, ``sealed.lock``).
- ``reveal(rows, key)``: the sealed values an unlocked key opens, decrypted in memory (and
  kept in the key's bounded cache until it is locked), set on the Python objects only.
- ``sealed_matches``: the search on sealed values for an unlocked holder: the candidates
  (exempted rows matching the other filters) decrypted in memory, bounded.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from brankas.core import crypto, sealing
from brankas.core.access import Action, allowed
from brankas.core.errors import AccessDenied
from brankas.core.terms import Category
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.keys.models import HolderKey
from brankas.web.runtime import brankas_settings

if TYPE_CHECKING:
    from brankas.web.keys.selectors import Recipient

# How many sealed candidates one search decrypts at most (the newest first); the list
# says when a search stopped there. 10,000 exempted rows: docs/benchmarks.md.
SEARCH_LIMIT = 20_000


def sealed_fields() -> frozenset[str]:
    return brankas_settings().sealed_fields


def seal_into(row: sealing.SealedRow, values: Mapping[str, str],
              recipients: Sequence[Recipient], *, presealed: Mapping[str, Any] | None = None
              ) -> None:
    """Seal the configured fields of ``values`` (register names) into ``row.sealed`` and
    empty their columns. ``presealed``: fields already sealed elsewhere (a request's
    subject, carried to its document as it is). Nothing happens without recipients (a
    biasa row) or with sealing switched off."""
    fields = sealed_fields()
    presealed = presealed or {}
    if not recipients or not (fields or presealed):
        return
    age = [r.recipient for r in recipients]
    fps = [r.fingerprint for r in recipients]
    sealed: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if name in presealed:
            # Sealed before, whatever the configuration says now: nobody holds a key here
            # to unseal it, and its column holds nothing (or the label) to keep instead.
            sealed[name] = dict(presealed[name])
        elif name in fields:
            sealed[name] = sealing.seal_value(value, age, fps)
        else:
            continue
        setattr(row, row.FIELD_ATTRS.get(name, name), "")
    for name, entry in presealed.items():
        sealed.setdefault(name, dict(entry))
    row.sealed = sealed


# -- unlocked keys, in this process's memory only ----------------------------------------

@dataclass
class UnlockedKey:
    """A holder's identities, unlocked, and the values they decrypted (bounded)."""

    user_id: int
    username: str
    identities: list[Any]
    fingerprints: frozenset[str]
    idle_seconds: float
    cache_max: int
    last_used: float = field(default_factory=time.monotonic)
    cache: OrderedDict[tuple[str, int, str], str] = field(default_factory=OrderedDict)
    guard: threading.Lock = field(default_factory=threading.Lock)  # pages served at once

    def opens(self, entry: Mapping[str, Any]) -> bool:
        return sealing.opens(entry, self.fingerprints)

    def value(self, kind: str, pk: int, name: str, entry: Mapping[str, Any]) -> str | None:
        """The entry's plain text, from the cache or decrypted (None: not this key's)."""
        if not self.opens(entry):
            return None
        key = (kind, pk, name + ":" + str(entry["age"])[-16:])  # a re-encrypted value anew
        with self.guard:
            hit = self.cache.get(key)
            if hit is not None:
                self.cache.move_to_end(key)  # least recently used dropped first
            identities = list(self.identities)
        if hit is not None:
            return hit
        try:
            text = sealing.open_value(entry, identities)
        except Exception:  # not openable by this key after all (a damaged value), or locked
            return None
        with self.guard:
            if self.cache_max > 0 and self.identities:
                self.cache[key] = text
                while len(self.cache) > self.cache_max:
                    self.cache.popitem(last=False)
        return text

    def forget(self) -> None:
        with self.guard:
            self.cache.clear()
            self.identities.clear()


_KEYS: dict[str, UnlockedKey] = {}
_LOCK = threading.Lock()


def _user_identities(user: User, passphrase: str) -> tuple[list[Any], list[str]]:
    """The user's usable keys (active and retired, never revoked), unlocked."""
    from brankas.web.keys.services import anchors_fill

    keys = list(HolderKey.objects.filter(holder=user, revoked_at__isnull=True)
                .order_by("-created_at"))
    if not keys:
        raise AccessDenied("sealed_no_key", username=user.username)
    identities = [crypto.unlock_identity(bytes(k.protected_identity), passphrase,
                                         username=user.username) for k in keys]
    anchors_fill(keys, identities)
    return identities, [k.fingerprint for k in keys]


def key_for_passphrase(*, actor: User, passphrase: str, via: str) -> UnlockedKey:
    """A holder's key unlocked for one command (the CLI's ``--passphrase-file``): not
    kept anywhere once the command ends. Audited as an unlock."""
    require_audited(actor, Action.UNSEAL, via=via)
    try:
        identities, fps = _user_identities(actor, passphrase)
    except Exception as exc:
        audit_record(actor=actor.username, action="sealed.unlock", outcome="denied",
                     detail={"via": via, "error": getattr(exc, "code", type(exc).__name__)})
        raise
    audit_record(actor=actor.username, action="sealed.unlock",
                 detail={"via": via, "fingerprints": fps})
    settings = brankas_settings()
    return UnlockedKey(user_id=actor.pk, username=actor.username, identities=identities,
                       fingerprints=frozenset(fps), idle_seconds=0,
                       cache_max=settings.sealed_cache_max)


def unlock(*, actor: User, passphrase: str, via: str = "web") -> str:
    """Unlock the holder's key in this process for ``BRANKAS_UNLOCK_IDLE_MINUTES`` idle;
    returns the token the session keeps (the key itself stays here)."""
    key = key_for_passphrase(actor=actor, passphrase=passphrase, via=via)
    settings = brankas_settings()
    key.idle_seconds = settings.unlock_idle_minutes * 60.0
    warm(key, min(settings.sealed_warm, settings.sealed_cache_max))
    token = secrets.token_urlsafe(32)
    with _LOCK:
        _sweep()
        _KEYS[token] = key
    return token


def warm(key: UnlockedKey, limit: int) -> int:
    """Decrypt the newest ``limit`` sealed subjects (and correspondents, when sealed) of
    the register into the key's cache, so that its searches read memory only
    (docs/benchmarks.md, "Sealed fields": the cost of this, once, at unlock)."""
    from brankas.web.documents.models import Document

    if limit <= 0:
        return 0
    done = 0
    kind = str(Document._meta.label_lower)
    rows = (Document.objects.filter(category=Category.EXEMPTED.value).exclude(sealed={})
            .order_by("-registered_at", "-seq").values_list("pk", "sealed")[:limit])
    for pk, sealed in rows.iterator(chunk_size=2000):
        for name in ("subject", "correspondent"):
            entry = (sealed or {}).get(name)
            if entry is not None and key.value(kind, pk, name, entry) is not None:
                done += 1
    return done


def _sweep() -> None:
    """Drop every key idle too long (called with ``_LOCK`` held); audited."""
    now = time.monotonic()
    for token, key in list(_KEYS.items()):
        if now - key.last_used > key.idle_seconds:
            del _KEYS[token]
            key.forget()
            audit_record(actor=key.username, action="sealed.lock", detail={"reason": "idle"})


def unlocked(token: str | None, user: Any) -> UnlockedKey | None:
    """The unlocked key behind ``token`` if it is the user's, not idle too long, and still
    usable: the user's role may unseal and none of its keys was revoked since the unlock
    (the database says so, for every server process: a revoked key opens nothing through
    Brankas). A key no longer usable is forgotten at once (audited ``sealed.lock``)."""
    if not token or user is None or not getattr(user, "is_authenticated", False):
        return None
    with _LOCK:
        _sweep()
        key = _KEYS.get(token)
        if key is None or key.user_id != user.pk:
            return None
    live = set(HolderKey.objects.filter(holder_id=key.user_id, fingerprint__in=key.fingerprints,
                                        revoked_at__isnull=True)
               .values_list("fingerprint", flat=True))
    if live != set(key.fingerprints) or not allowed(user.role, Action.UNSEAL):
        lock(token, actor=key.username, reason="revoked")
        return None
    with _LOCK:
        key.last_used = time.monotonic()
    return key


def lock(token: str | None, *, actor: str, reason: str) -> bool:
    """Forget the key behind ``token`` (sign-out, the lock button); audited."""
    if not token:
        return False
    with _LOCK:
        key = _KEYS.pop(token, None)
    if key is None:
        return False
    key.forget()
    audit_record(actor=actor, action="sealed.lock", detail={"reason": reason})
    return True


def unlocked_count() -> int:
    with _LOCK:
        return len(_KEYS)


# -- revealing and searching ------------------------------------------------------------

def _kind(row: Any) -> str:
    return str(row._meta.label_lower)


def reveal(rows: Iterable[Any], key: UnlockedKey | None,
           fields: Iterable[str] | None = None) -> None:
    """Set the sealed values ``key`` opens on the rows (Python objects only)."""
    if key is None:
        return
    wanted = set(fields) if fields is not None else None
    for row in rows:
        sealed = getattr(row, "sealed", None) or {}
        values: dict[str, str] = {}
        for name, entry in sealed.items():
            if wanted is not None and name not in wanted:
                continue
            text = key.value(_kind(row), row.pk, name, entry)
            if text is not None:
                values[name] = text
        if values:
            row.reveal(values)


def mask_names(originals: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The original files of a sealed row with their names replaced by the label: a file's
    name often is its subject (an imported file's always is), so a row whose fields are
    sealed keeps no name in plain text; kind, size and hash stay."""
    return [{**o, "name": sealing.SEALED_LABEL} for o in originals]


def reveal_typed(row: sealing.SealedRow, values: Mapping[str, str]) -> None:
    """What the registering user typed, shown on the confirmation page only."""
    row.reveal({name: values[name] for name in row.sealed if name in values})


@dataclass(frozen=True)
class SealedSearch:
    pks: list[int]
    complete: bool  # False: stopped at SEARCH_LIMIT candidates or ``limit`` matches


def sealed_matches(candidates: QuerySet[Any], query: str, key: UnlockedKey,
                   *, fields: Sequence[str] = ("subject",), limit: int = 1000) -> SealedSearch:
    """The pks among ``candidates`` (in their order) whose sealed ``fields`` contain
    ``query``, decrypted in memory with ``key``: at most SEARCH_LIMIT candidates read,
    ``limit`` matches kept."""
    needle = query.strip()
    pks: list[int] = []
    read = 0
    kind = str(candidates.model._meta.label_lower)
    for pk, sealed in candidates.exclude(sealed={}).values_list("pk", "sealed").iterator(
            chunk_size=2000):
        read += 1
        if read > SEARCH_LIMIT:
            return SealedSearch(pks, False)
        for name in fields:
            entry = (sealed or {}).get(name)
            if entry is None:
                continue
            text = key.value(kind, pk, name, entry)
            if text is not None and sealing.contains(text, needle):
                pks.append(pk)
                break
        if len(pks) >= limit:
            return SealedSearch(pks, False)
    return SealedSearch(pks, True)


# -- grant and rekey (issue 13): sealed values re-encrypted like any exempted file --------

@dataclass
class SealedRewrap:
    values: int = 0  # sealed values re-encrypted
    failed: list[str] = field(default_factory=list)  # "<model> <pk> <field>": did not open


# Rows re-encrypted per transaction: a grant or rekey cut short leaves each row either as
# it was or done, as with one transaction per row, at one commit (a WAL fsync) per batch.
SEALED_ROWS_TOGETHER = 64


def rewrap_sealed(*, identities_for: Any, readers_for: Any,
                  on_batch: Any = None) -> SealedRewrap:
    """Re-encrypt every sealed value that ``readers_for(purpose, to)`` gives new readers
    (None: leave it) and that ``identities_for(to)`` opens (``rewrap_sealed_steps`` run
    to its end)."""
    out = SealedRewrap()
    for _step in rewrap_sealed_steps(out, identities_for=identities_for,
                                     readers_for=readers_for, on_batch=on_batch):
        pass
    return out


def rewrap_sealed_steps(out: SealedRewrap, *, identities_for: Any, readers_for: Any,
                        rows: int = SEALED_ROWS_TOGETHER,
                        on_batch: Any = None) -> Iterator[None]:
    """``rewrap_sealed`` a batch of rows at a time: each step (one ``next``) re-encrypts
    up to ``rows`` rows in one transaction, so that a grant or rekey cut short
    leaves each row either as it was or done (and a re-run does the rest); ``out`` counts
    the values done and names those that did not open. A grant runs the steps while its
    worker threads copy files (``keys.grants``). ``purpose`` is
    ``keys.selectors.Purpose``: DOCUMENT or LETTER. ``on_batch(model_name, pks, values)``
    is called inside each batch's transaction that changed rows (the caller audits them
    there: a run cut short leaves no re-encrypted row unaudited)."""
    from django.db import transaction

    from brankas.web.documents.models import Document
    from brankas.web.keys.selectors import Purpose
    from brankas.web.sendrequests.models import SendRequest

    for model, purpose in ((Document, Purpose.DOCUMENT), (SendRequest, Purpose.LETTER)):
        pks = list(model.objects.exclude(sealed={}).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), rows):
            batch = pks[start:start + rows]
            with transaction.atomic():
                changed: list[Any] = []
                values = out.values
                for row in model.objects.select_for_update().filter(pk__in=batch).order_by("pk"):
                    if _rewrap_row(row, purpose, out, identities_for=identities_for,
                                   readers_for=readers_for):
                        row.save(update_fields=["sealed"])
                        changed.append(row.pk)
                if changed and on_batch is not None:
                    on_batch(model._meta.model_name, changed, out.values - values)
            yield


def _rewrap_row(row: Any, purpose: Any, out: SealedRewrap, *, identities_for: Any,
                readers_for: Any) -> bool:
    """One row's sealed values re-encrypted in place (on the object); True if any was."""
    changed = False
    for name, entry in list(row.sealed.items()):
        readers = readers_for(purpose, list(entry.get("to", ())))
        if readers is None:
            continue
        identities = identities_for(list(entry.get("to", ())))
        if not identities:
            continue
        try:
            text = sealing.open_value(entry, identities)
        except Exception:  # noqa: BLE001 - damaged: left as it is, named
            out.failed.append(f"{row._meta.model_name} {row.pk} {name}")
            continue
        row.sealed[name] = sealing.seal_value(
            text, [r.recipient for r in readers.all()],
            [r.fingerprint for r in readers.all()])
        del text
        out.values += 1
        changed = True
    return changed


# -- what the registering user typed, for the confirmation page only ---------------------

TYPED_SECONDS = 120.0  # the confirmation page follows the form at once
_TYPED: dict[str, tuple[int, str, dict[str, str], float]] = {}


def remember_typed(*, user_id: int, agenda: str, values: Mapping[str, str]) -> str:
    """Keep what the user typed into the sealed fields, in this process's memory, for the
    page that confirms the registration (one showing, within TYPED_SECONDS); returns the
    token the session keeps (the values are never in the session or a cookie)."""
    token = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _LOCK:
        for old, (_u, _a, _v, expires) in list(_TYPED.items()):
            if expires < now:
                del _TYPED[old]
        _TYPED[token] = (user_id, agenda, dict(values), now + TYPED_SECONDS)
    return token


def take_typed(token: str | None, *, user_id: int, agenda: str) -> dict[str, str] | None:
    """The values ``remember_typed`` kept, once (then forgotten), for that user and entry."""
    if not token:
        return None
    with _LOCK:
        kept = _TYPED.pop(token, None)
    if kept is None:
        return None
    who, where, values, expires = kept
    if who != user_id or where != agenda or expires < time.monotonic():
        return None
    return values
