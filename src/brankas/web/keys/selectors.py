"""Keys, the one answer to "who receives an exempted file" (``recipients_for``), and what
the key life cycle needs: who can open each exempted file (``key_coverage``) and the
dashboard's warnings (``key_warnings``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from brankas.core import crypto
from brankas.core.access import Action, require_combination
from brankas.core.errors import InvalidInput, SetupError
from brankas.core.terms import KEY_HOLDER_ROLES, ROLE_LABELS, Category, Role
from brankas.web import changes
from brankas.web.accounts.models import Office, User
from brankas.web.accounts.selectors import office_get
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey, RecoverySplit
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.models import SendRequest

RECOVERY = "recovery"


def key_list() -> QuerySet[HolderKey]:
    return HolderKey.objects.select_related("holder", "revoked_by").order_by(
        "holder__username", "created_at")


def user_has_key(user_id: int) -> bool:
    """The user holds an active key (``HolderKey.objects.active``)."""
    return HolderKey.objects.active().filter(holder_id=user_id).exists()


def users_with_key() -> set[int]:
    """The ids of the users who hold an active key."""
    return set(HolderKey.objects.active().values_list("holder_id", flat=True))


def any_key_holder() -> bool:
    """Some user holds an active key (else no exempted document can be registered)."""
    return HolderKey.objects.active().exists()


def key_holder_candidates() -> QuerySet[User]:
    """The active users whose role holds a key: whom an admin may make a key for."""
    return User.objects.filter(role__in=[r.value for r in KEY_HOLDER_ROLES],
                               is_active=True).order_by("role", "username")


# -- who receives an exempted file -----------------------------------------------------

class Purpose(StrEnum):
    """What is being encrypted. Each purpose has one set of readers (``recipients_for``)."""

    DOCUMENT = "document"  # an exempted document: registration and import
    LETTER = "letter"  # an exempted request letter (``permintaan/``)
    REGISTER = "register"  # the full register on a backup disk
    SNAPSHOT = "snapshot"  # the database snapshot on a backup disk
    AUDIT_TAIL = "audit-tail"  # the audit entries a run carries (its audit segment)
    COMBINATION = "combination"  # a safe's combination


# A document or letter encrypted to the recovery key alone could be read by nobody in the
# office: refused. A backup disk is always written (the recovery key opens it). A
# combination has its own refusal, naming the roles that may read it.
REFUSED_WITHOUT_HOLDER = {Purpose.DOCUMENT: "no_key_holder", Purpose.LETTER: "no_key_holder",
                          Purpose.COMBINATION: "combination_no_holder"}


@dataclass(frozen=True)
class Recipient:
    fingerprint: str
    recipient: str
    holder: str  # username, or "recovery"


@dataclass(frozen=True)
class Recipients:
    """The readers of one encrypted file: the holders' active keys that may read it, and
    always the office recovery key (paper, in the safe)."""

    purpose: Purpose
    keys: tuple[HolderKey, ...]
    recovery: str  # the office recovery recipient (age1...)

    def all(self) -> list[Recipient]:
        """Every reader, the holders first, then the recovery key."""
        holders = [Recipient(k.fingerprint, k.recipient, k.holder.username) for k in self.keys]
        return [*holders, Recipient(crypto.recipient_fingerprint(self.recovery), self.recovery,
                                    RECOVERY)]

    def age(self) -> list[str]:
        """The age recipients to encrypt to."""
        return [r.recipient for r in self.all()]

    def holder_fingerprints(self) -> list[str]:
        """The holders' key fingerprints, sorted (the recovery key's left out)."""
        return sorted(k.fingerprint for k in self.keys)


def recipients_for(*, purpose: Purpose) -> Recipients:
    """Who receives a file encrypted for ``purpose``: every active key (of a role that may
    read a combination, for a combination) and the office recovery key. Refused, before
    anything is read or written, when the purpose needs a holder and there is none."""
    keys = HolderKey.objects.active().select_related("holder").order_by("created_at", "id")
    if purpose is Purpose.COMBINATION:
        roles = brankas_settings().combination_roles
        keys = keys.filter(holder__role__in=sorted(roles))
    found = tuple(keys)
    if not found and purpose in REFUSED_WITHOUT_HOLDER:
        code = REFUSED_WITHOUT_HOLDER[purpose]
        if purpose is Purpose.COMBINATION:
            names = ", ".join(ROLE_LABELS[Role(r)] for r in sorted(roles))
            raise SetupError(code, roles=names)
        raise SetupError(code)
    return Recipients(purpose=purpose, keys=found, recovery=Office.objects.get().recovery_recipient)


def recipients_adding(fingerprints: Sequence[str], key: HolderKey, *,
                      purpose: Purpose) -> Recipients:
    """Who receives an existing file re-encrypted so that ``key`` opens it too (a grant):
    its current readers that are still active keys, ``key`` itself, and the office
    recovery key. ``fingerprints`` are the file's recipients as recorded (the recovery
    key's among them or not: the current recovery key is always added).

    A reader whose key was replaced by a newer key of the same holder (retired, not
    revoked) reads on through that holder's active key, so a grant never takes a file
    away from a holder who renewed their key. A revoked key, and the key of a user no
    longer active, receive nothing. For a combination, only the roles that may read one
    (``combination_roles``); ``key`` must be of one of them.

    Refused when ``key`` is revoked (``key_revoked``) or otherwise not active
    (``grant_no_key``)."""
    fresh = HolderKey.objects.select_related("holder").get(pk=key.pk)
    if fresh.revoked_at is not None:
        raise InvalidInput("key_revoked", username=fresh.holder.username,
                           fingerprint=fresh.fingerprint)
    if not fresh.active:
        raise InvalidInput("grant_no_key", username=fresh.holder.username)
    keys = HolderKey.objects.active().select_related("holder")
    if purpose is Purpose.COMBINATION:
        roles = brankas_settings().combination_roles
        require_combination(fresh.holder.role, roles)
        keys = keys.filter(holder__role__in=sorted(roles))
    listed = list(fingerprints)
    renewed = HolderKey.objects.filter(fingerprint__in=listed, retired_at__isnull=False,
                                       revoked_at__isnull=True).values("holder_id")
    found = keys.filter(Q(fingerprint__in=listed) | Q(holder_id__in=renewed) | Q(pk=fresh.pk))
    return Recipients(purpose=purpose, keys=tuple(found.order_by("created_at", "id")),
                      recovery=Office.objects.get().recovery_recipient)


# -- coverage: who can open each exempted file (``key coverage``) -----------------------

DOCUMENT, LETTER = "document", "letter"


@dataclass(frozen=True)
class Opener:
    """A holder who can open a file: an active user with a key among its recipients that
    is not revoked. ``current``: through the holder's active key (else through a key the
    holder has since replaced, which the holder's passphrase of that time still opens)."""

    username: str
    full_name: str
    role: str
    current: bool


@dataclass(frozen=True)
class CoverageRow:
    """One exempted document (``label`` its agenda number) or encrypted request letter
    (``P-<n>``), and the holders who can open it. No holder: the recovery key alone
    (``recovery_only``) — paper in the safe, or its shares."""

    kind: str  # document, letter
    label: str
    classification: str
    holders: tuple[Opener, ...]
    recovery: bool  # the office's current recovery key is among its recipients

    @property
    def recovery_only(self) -> bool:
        return not self.holders


def _openers() -> dict[str, Opener]:
    """Fingerprint → holder, for every key that still opens what it was given: not
    revoked, of an active user (one query; once per web GET request: the coverage page
    asks for its rows and for its recovery-only count)."""
    def read() -> dict[str, Opener]:
        rows = (HolderKey.objects.filter(revoked_at__isnull=True, holder__is_active=True)
                .values_list("fingerprint", "retired_at", "holder__username",
                             "holder__full_name", "holder__role"))
        return {fp: Opener(username, full_name, role, retired is None)
                for fp, retired, username, full_name, role in rows}

    return changes.per_request("keys._openers", read)


def _holders_of(fingerprints: Sequence[str], openers: dict[str, Opener]) -> tuple[Opener, ...]:
    """The holders among ``fingerprints``, once each (through the current key if any)."""
    found: dict[str, Opener] = {}
    for fp in fingerprints:
        opener = openers.get(fp)
        if opener is None:
            continue
        seen = found.get(opener.username)
        if seen is None or (opener.current and not seen.current):
            found[opener.username] = opener
    return tuple(found[u] for u in sorted(found))


def _recovery_fingerprint() -> str:
    office = office_get()
    return crypto.recipient_fingerprint(office.recovery_recipient) if office else ""


def _exempted_documents() -> QuerySet[Document]:
    return Document.objects.filter(category=Category.EXEMPTED.value)


def _encrypted_letters() -> QuerySet[SendRequest]:
    return SendRequest.objects.exclude(letter_path="").exclude(letter_suite="")


def exempted_recipient_groups() -> list[dict[str, Any]]:
    """The exempted documents grouped by their recipient list (``recipients``, ``n``):
    computed again only when the register changed (web/changes.py; the dashboard asks on
    every visit)."""
    from brankas.web.documents.selectors import TABLE

    def compute() -> list[dict[str, Any]]:
        rows = _exempted_documents().order_by().values("recipients").annotate(n=Count("*"))
        return [dict(row) for row in rows]

    return changes.cached("exempted_recipient_groups", TABLE, (), compute)


def _recovery_only_sets(qs: QuerySet[Any] | list[dict[str, Any]], field: str,
                        openers: dict[str, Opener]) -> tuple[list[list[str]], int]:
    """The distinct recipient lists of ``qs`` (or its rows already grouped) that no holder
    can open, and how many rows have them: grouped in SQL (there are few distinct lists:
    one per change of holders), judged here."""
    sets, count = [], 0
    # COUNT(*): the (category, recipients) index alone answers it (an index-only scan)
    rows = qs if isinstance(qs, list) else qs.order_by().values(field).annotate(n=Count("*"))
    for row in rows:
        fingerprints = row[field] or []
        if not _holders_of(fingerprints, openers):
            sets.append(fingerprints)
            count += row["n"]
    return sets, count


class Coverage:
    """The coverage of every exempted document, then every encrypted request letter: a
    sequence that ``Paginator`` can page (``count`` and slices query only what is asked)
    and that streams when iterated (``.iterator()``, only the columns needed)."""

    def __init__(self, *, recovery_only: bool = False) -> None:
        self.openers = _openers()
        self.recovery = _recovery_fingerprint()
        self.documents = _exempted_documents()
        self.letters = _encrypted_letters()
        if recovery_only:
            docs, _n = _recovery_only_sets(self.documents, "recipients", self.openers)
            letters, _n = _recovery_only_sets(self.letters, "letter_recipients", self.openers)
            self.documents = self.documents.filter(recipients__in=docs)
            self.letters = self.letters.filter(letter_recipients__in=letters)
        self._counts: tuple[int, int] | None = None

    def _documents(self) -> QuerySet[Any]:
        return self.documents.values_list("agenda", "classification", "recipients")

    def _letters(self) -> QuerySet[Any]:
        return self.letters.values_list("pk", "classification", "letter_recipients")

    def _row(self, kind: str, label: str, classification: str,
             fingerprints: list[str] | None) -> CoverageRow:
        listed = fingerprints or []
        return CoverageRow(kind, label, classification, _holders_of(listed, self.openers),
                           self.recovery in listed)

    def _document_rows(self, rows: Iterable[tuple[str, str, list[str]]]) -> Iterator[CoverageRow]:
        for agenda, classification, fingerprints in rows:
            yield self._row(DOCUMENT, agenda, classification, fingerprints)

    def _letter_rows(self, rows: Iterable[tuple[int, str, list[str]]]) -> Iterator[CoverageRow]:
        for pk, classification, fingerprints in rows:
            yield self._row(LETTER, f"P-{pk}", classification, fingerprints)

    def __iter__(self) -> Iterator[CoverageRow]:
        yield from self._document_rows(self._documents().iterator(chunk_size=2000))
        yield from self._letter_rows(self._letters().iterator(chunk_size=2000))

    def counts(self) -> tuple[int, int]:
        """How many documents and letters."""
        if self._counts is None:
            self._counts = (self.documents.count(), self.letters.count())
        return self._counts

    def count(self) -> int:
        """The number of rows (what ``Paginator`` asks; no ``__len__``, which ``list()``
        would call before streaming)."""
        return sum(self.counts())

    def __getitem__(self, window: slice) -> list[CoverageRow]:
        if not isinstance(window, slice):
            raise TypeError("Coverage is read in slices")
        start, stop = window.start or 0, window.stop
        documents, total = self.counts()[0], self.count()
        stop = total if stop is None else min(stop, total)
        rows: list[CoverageRow] = []
        if start < documents:
            rows += self._document_rows(self._documents()[start:min(stop, documents)])
        if stop > documents:
            first = max(start - documents, 0)
            rows += self._letter_rows(self._letters()[first:stop - documents])
        return rows


def key_coverage(*, actor: Actor, via: str = "", target: str = "",
                 recovery_only: bool = False) -> Coverage:
    """Per exempted document and per encrypted request letter, the active holders who can
    open it (view-key-coverage); ``recovery_only``: only those no holder can open. The
    recovery key is left out of the holders. Viewing it is audited by
    ``keys.coverage.key_coverage_view``."""
    require_audited(actor, Action.VIEW_KEY_COVERAGE, target=target, via=via)
    return Coverage(recovery_only=recovery_only)


# -- warnings for the dashboard ---------------------------------------------------------

RECOVERY_CHECK_DAYS = 365  # a set of shares should rebuild the recovery key once a year


@dataclass(frozen=True)
class KeyWarning:
    """``documents_recovery_only`` {count, documents, letters}: files no active holder can
    open. ``key_unchecked`` {username, full_name, months, since, never}: a holder who has
    not proved the passphrase for ``key_check_months``. ``no_recovery_split``: the
    recovery key has no recorded shares. ``recovery_check_old`` {days, since, never}: the
    last rebuild from shares (or the split) is more than a year ago. ``several_splits``
    {count}: older splits' shares still rebuild the key."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


def months_between(start: datetime, end: datetime) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return max(months, 0)


def recovery_only_counts() -> tuple[int, int]:
    """How many exempted documents and encrypted letters no active holder can open."""
    openers = _openers()
    _s, documents = _recovery_only_sets(exempted_recipient_groups(), "recipients", openers)
    _s, letters = _recovery_only_sets(_encrypted_letters(), "letter_recipients", openers)
    return documents, letters


def key_checked_since(key: HolderKey) -> datetime:
    """Since when the holder has not proved the passphrase: the last check, or the key's
    making."""
    return key.last_checked_at or key.created_at


def key_check_due(key: HolderKey, *, now: datetime | None = None) -> bool:
    """An active key whose holder has not proved the passphrase for ``key_check_months``."""
    months = months_between(key_checked_since(key), now or timezone.now())
    return key.active and months >= brankas_settings().key_check_months


def recovery_splits() -> QuerySet[RecoverySplit]:
    """The recorded splits of the office's current recovery key, newest first."""
    office = office_get()
    if office is None:
        return RecoverySplit.objects.none()
    return RecoverySplit.objects.filter(
        recovery_fingerprint=crypto.recipient_fingerprint(office.recovery_recipient)
    ).select_related("created_by").order_by("-created_at", "-id")


def key_warnings(*, now: datetime | None = None) -> list[KeyWarning]:
    """What the key life cycle needs attention for (the dashboard shows each to the roles
    who can act on it). Nothing before the office is set up."""
    now = now or timezone.now()
    office = office_get()
    if office is None:
        return []
    warnings: list[KeyWarning] = []
    documents, letters = recovery_only_counts()
    if documents or letters:
        warnings.append(KeyWarning("documents_recovery_only", {
            "count": documents + letters, "documents": documents, "letters": letters}))
    for key in HolderKey.objects.active().select_related("holder").order_by("holder__username"):
        if key_check_due(key, now=now):
            since = key_checked_since(key)
            warnings.append(KeyWarning("key_unchecked", {
                "username": key.holder.username, "full_name": key.holder.display(),
                "months": months_between(since, now), "since": since,
                "never": key.last_checked_at is None}))
    seen = recovery_splits().order_by().aggregate(
        n=Count("pk"), checked=Max(Coalesce("last_checked_at", "created_at")),
        ever=Max("last_checked_at"))
    if not seen["n"]:
        warnings.append(KeyWarning("no_recovery_split"))
        return warnings
    if now - seen["checked"] > timedelta(days=RECOVERY_CHECK_DAYS):
        warnings.append(KeyWarning("recovery_check_old", {
            "days": (now - seen["checked"]).days, "since": seen["checked"],
            # the latest date is a split's making, not a check of its shares
            "never": seen["ever"] is None or seen["ever"] < seen["checked"]}))
    if seen["n"] > 1:
        warnings.append(KeyWarning("several_splits", {"count": seen["n"]}))
    return warnings
