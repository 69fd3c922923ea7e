"""The dashboard's offsite warnings (web/offsite/warnings.py), read from records made
directly (no S3 server: the warnings read the records only): which remote is not
immutable, which failed its last check, whose daily push is stale (a push dated after now
is no recent push), and whether there is an offsite copy at all."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def _remote(office, name: str, **fields):  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import Remote

    return Remote.objects.create(name=name, remote_id=name.ljust(32, "0")[:32],
                                 endpoint="https://s3.invalid", bucket="b",
                                 added_by=office.users["admin"], added_at=timezone.now(),
                                 **fields)


def _push(office, remote, number: int, at: dt.datetime, status: str = "completed"):  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import Push

    Push.objects.create(remote=remote, number=number, folder=f"run-{number}",
                        operator=office.users["operator"], started_at=at, finished_at=at,
                        status=status)


def _daily(office, remote, set_at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import Schedule

    Schedule.objects.create(remote=remote, daily_at=dt.time(1, 0), set_by=office.users["admin"],
                            set_at=set_at)


def test_offsite_warnings_name_each_remote_once_per_cause(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.warnings import offsite_warnings

    def codes() -> list[tuple[str, str]]:
        return [(w.code, w.params.get("name", "")) for w in offsite_warnings(now=now)]

    now = timezone.now()
    long_ago = now - dt.timedelta(days=10)
    assert codes() == [("no_copy", "")]
    # not tested yet (None): neither "not immutable" nor "check failed"
    untested = _remote(office, "untested")
    _remote(office, "zeta", immutable=False, last_verify_ok=False)
    _remote(office, "alpha", immutable=False)  # never checked: no failed check
    _remote(office, "gamma", immutable=True, last_verify_ok=True)
    checked = _remote(office, "beta", last_verify_ok=False)  # canary not run: not "not immutable"
    # a failed push is no copy
    _push(office, untested, 1, long_ago, status="failed")
    assert codes() == [("not_immutable", "alpha"), ("not_immutable", "zeta"),
                       ("verify_failed", "beta"), ("verify_failed", "zeta"), ("no_copy", "")]
    # only a push dated after now (a clock set ahead): a copy, but no recent push
    _push(office, untested, 2, now + dt.timedelta(days=3))
    assert ("no_copy", "") not in codes()
    _daily(office, untested, long_ago)
    # a push yesterday: recent; the schedule set long ago does not matter
    _push(office, checked, 1, now - dt.timedelta(days=1))
    _daily(office, checked, long_ago)
    warnings = offsite_warnings(now=now)
    assert [(w.code, w.params.get("name", "")) for w in warnings] == [
        ("not_immutable", "alpha"), ("not_immutable", "zeta"), ("verify_failed", "beta"),
        ("verify_failed", "zeta"), ("push_stale", "untested")]
    assert warnings[-1].params["last"] is None
    # its push of 12 days ago is the last one not after now
    _push(office, untested, 3, now - dt.timedelta(days=12))
    assert offsite_warnings(now=now)[-1].params["last"] == now - dt.timedelta(days=12)
