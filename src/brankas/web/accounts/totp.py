"""Optional second factor for key holders: a TOTP code (RFC 6238, any authenticator app)
through django-otp. A holder who enrolled one needs their password *and* a current code to
sign in, on the web and on the command line (``BRANKAS_TOTP``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from brankas.core.access import Action
from brankas.core.errors import AuthenticationFailed, InvalidInput
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record

DEVICE_NAME = "brankas"


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, to type into the app
    uri: str  # otpauth://, for a QR code


def _device(user: User, *, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def totp_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_enrol_begin(*, user: User) -> Enrolment:
    """A new, unconfirmed secret for the key holder ``user`` (replaces an earlier
    unconfirmed one); it counts only once ``totp_enrol_confirm`` accepts a code from it."""
    require_audited(user, Action.OWN_KEY, target="totp")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return Enrolment(secret=base64.b32encode(device.bin_key).decode("ascii"),
                     uri=device.config_url)


def totp_enrol_confirm(*, user: User, token: str) -> None:
    require_audited(user, Action.OWN_KEY, target="totp")
    device = _device(user, confirmed=False)
    if device is None or not device.verify_token(token.strip()):
        raise InvalidInput("totp_wrong")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=user.username, action="user.totp_enrol", target=user.username)


def totp_check(*, user: User, token: str | None, via: str) -> None:
    """Nothing when ``user`` has no second factor; otherwise the code must be current (and
    not used before). A missing or wrong code is audited as a failed sign-in."""
    device = _device(user, confirmed=True)
    if device is None:
        return
    if not token:
        raise AuthenticationFailed("totp_required")
    if not device.verify_token(token.strip()):
        audit_record(actor=user.username, action="auth.login", outcome="failed",
                     detail={"reason": "totp", "via": via})
        raise AuthenticationFailed("totp_wrong")
