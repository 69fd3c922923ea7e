"""The sign-in lockout for a caller that has no HTTP request: the command line.

A sign-in on the web goes through django-axes with its real request (its authentication
backend and middleware count it and lock). django-axes 8 cannot count an attempt without
a request (its backend raises, its database handler ignores a failure with
``request=None``), and a service must not make a request up for a caller that has none.
A command-line sign-in is therefore counted here, in django-axes's own table
(``AccessAttempt``), under the name django-axes itself would use
(``loginname.login_name``, its ``AXES_USERNAME_CALLABLE``), against django-axes's own limit
and cool-off (``get_failure_limit``, ``get_cool_off``, from the ``AXES_*`` settings). The
web and the command line therefore lock at the same count; django-axes's reset of the name
(``axes_reset_username``, the admin's ``unlock``) resets both, while a web sign-in's
``AXES_RESET_ON_SUCCESS`` resets that address only (the command line is a source of its
own, below).

Brankas locks a name *from one source address* (``AXES_LOCKOUT_PARAMETERS =
[["username", "ip_address"]]``) with django-axes's database handler: five wrong passwords
for the Kadis from one machine lock the Kadis out on that machine only, not everywhere
(docs/security.md, "Lock-out"). The command line has no address: its attempts are rows
without one (``ip_address`` NULL), so they lock the command line for that name and nothing
else. This module refuses to run under another setting rather than count differently
from django-axes.

The admin lifts a lock-out with django-axes's own API (``unlock``: ``axes.utils.reset``,
every address of the name); ``lockouts`` lists the names locked now, with the address and
the time of the failure that locked them (the admin's dashboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

CLI_AGENT = "brankas-cli"  # the user agent a command-line attempt is recorded with
_DATABASE_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # settings.AXES_LOCKOUT_PARAMETERS


def _check_settings() -> None:
    if list(axes_settings.AXES_LOCKOUT_PARAMETERS) != LOCKOUT_PARAMETERS or (
            axes_settings.AXES_HANDLER != _DATABASE_HANDLER
            or axes_settings.AXES_USE_ATTEMPT_EXPIRATION):
        raise ImproperlyConfigured(
            "brankas.web.accounts.lockout counts command-line sign-ins as django-axes's "
            "database handler does with AXES_LOCKOUT_PARAMETERS = [['username', 'ip_address']]"
            " only")


def _enabled() -> bool:
    _check_settings()
    return bool(axes_settings.AXES_ENABLED and axes_settings.AXES_LOCK_OUT_AT_FAILURE)


def login_locked(name: str) -> bool:
    """Whether ``name`` (as ``login_name`` gives it) has reached django-axes's failure
    limit within its cool-off on the command line (the attempts without an address)."""
    if not _enabled() or not name:
        return False
    attempts = AccessAttempt.objects.filter(username=name, ip_address__isnull=True)
    cool_off = get_cool_off(None)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    return bool(failures >= get_failure_limit(None, {"username": name}))


def login_failed(name: str, *, agent: str = CLI_AGENT) -> None:
    """Count one failed sign-in of ``name`` from a caller without a request, as django-axes's
    database handler counts one from the web: attempts older than the cool-off are dropped
    first, then the attempt row of this name and caller is made or incremented."""
    if not _enabled() or not name:
        return
    now = timezone.now()
    cool_off = get_cool_off(None)
    with transaction.atomic():
        if cool_off is not None:
            AccessAttempt.objects.filter(attempt_time__lte=now - cool_off).delete()
        attempt, created = AccessAttempt.objects.select_for_update().get_or_create(
            username=name, ip_address=None, user_agent=agent,
            defaults={"get_data": "", "post_data": "", "http_accept": "", "path_info": "",
                      "failures_since_start": 1, "attempt_time": now})
        if not created:
            AccessAttempt.objects.filter(pk=attempt.pk).update(
                failures_since_start=F("failures_since_start") + 1, attempt_time=now)


@dataclass(frozen=True)
class Lockout:
    """A name locked out now from one source: ``address`` is None for the command line.
    ``since`` is the failure that reached the limit, ``until`` the end of the cool-off."""

    username: str
    address: str | None
    since: datetime
    until: datetime | None
    failures: int

    @property
    def unknown(self) -> bool:
        """A name that is no user's (recorded as ``unknown:<tag>``, never as typed)."""
        return self.username.startswith("unknown:")


def lockouts(username: str | None = None) -> list[Lockout]:
    """The lock-outs in force now (of ``username`` only, when given), newest first."""
    if not _enabled():
        return []
    attempts = AccessAttempt.objects.all()
    if username is not None:
        attempts = attempts.filter(username=username)
    cool_off = get_cool_off(None)
    now = timezone.now()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    found = []
    for row in attempts.order_by("-attempt_time"):
        if row.failures_since_start < get_failure_limit(None, {"username": row.username}):
            continue
        found.append(Lockout(username=row.username or "", address=row.ip_address,
                             since=row.attempt_time,
                             until=row.attempt_time + cool_off if cool_off else None,
                             failures=row.failures_since_start))
    return found


def unlock(username: str) -> int:
    """Lift every lock-out of ``username`` (every address and the command line) with
    django-axes's own reset; the number of attempt records removed."""
    from axes.utils import reset

    _check_settings()
    return int(reset(username=username))


def client_address(request: Any) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the address a sign-in comes from. ``REMOTE_ADDR``;
    behind the reverse proxy of ``BRANKAS_BEHIND_PROXY=1`` the last address of
    ``X-Forwarded-For``, the one that proxy itself appended (the earlier ones are the
    client's to write)."""
    from django.conf import settings

    if getattr(settings, "BRANKAS_TRUST_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return str(last)
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None
