"""The sign-in lockout for a caller that has no HTTP request: the command line.

A sign-in on the web goes through django-axes with its real request (its authentication
backend and middleware count it and lock). django-axes 8 cannot count an attempt without
a request (its backend raises, its database handler ignores a failure with
``request=None``), and a service must not make a request up for a caller that has none.
A command-line sign-in is therefore counted here, in django-axes's own table
(``AccessAttempt``), under the name django-axes itself would use
(``loginname.login_name``, its ``AXES_USERNAME_CALLABLE``), against django-axes's own limit
and cool-off (``get_failure_limit``, ``get_cool_off``, from the ``AXES_*`` settings). The
web and the command line therefore lock the same name at the same count, and resetting
it with django-axes (``axes_reset_username``, ``AXES_RESET_ON_SUCCESS`` at a web sign-in)
resets both.

Brankas locks by name alone, from any address (``AXES_LOCKOUT_PARAMETERS = ["username"]``)
with django-axes's database handler; this module refuses to run under another setting
rather than count differently from django-axes.
"""

from __future__ import annotations

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

CLI_AGENT = "brankas-cli"  # the user agent a command-line attempt is recorded with
_DATABASE_HANDLER = "axes.handlers.database.AxesDatabaseHandler"


def _check_settings() -> None:
    if list(axes_settings.AXES_LOCKOUT_PARAMETERS) != ["username"] or (
            axes_settings.AXES_HANDLER != _DATABASE_HANDLER
            or axes_settings.AXES_USE_ATTEMPT_EXPIRATION):
        raise ImproperlyConfigured(
            "brankas.web.accounts.lockout counts command-line sign-ins as django-axes's "
            "database handler does with AXES_LOCKOUT_PARAMETERS = ['username'] only")


def _enabled() -> bool:
    _check_settings()
    return bool(axes_settings.AXES_ENABLED and axes_settings.AXES_LOCK_OUT_AT_FAILURE)


def login_locked(name: str) -> bool:
    """Whether ``name`` (as ``login_name`` gives it) has reached django-axes's failure
    limit within its cool-off, counting the web's failures and the command line's alike."""
    if not _enabled() or not name:
        return False
    attempts = AccessAttempt.objects.filter(username=name)
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
