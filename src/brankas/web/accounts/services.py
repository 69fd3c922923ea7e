"""Setting up the office and managing users."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from brankas.core.access import Action
from brankas.core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    SetupError,
)
from brankas.core.register import agenda
from brankas.core.terms import Role
from brankas.web.accounts import lockout
from brankas.web.accounts.loginname import login_name
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.runtime import brankas_settings


@dataclass(frozen=True)
class InitResult:
    office: Office
    admin: User
    recovery_identity: str  # shown once, never stored


def _parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput("role_invalid", value=value) from None


def _check_username(user: User) -> None:
    try:
        User.username_validator(user.username)
    except ValidationError as exc:
        detail = " ".join(exc.messages)
        raise InvalidInput("field_invalid", field="username", detail=detail) from None
    if not user.username.strip("."):  # /users/../ is / once a browser reads the link
        raise InvalidInput("field_invalid", field="username",
                           detail=("tidak boleh hanya titik", "not dots alone"))


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("password_invalid", detail=" ".join(exc.messages)) from None


def office_initialize(
    *,
    office_name: str,
    admin_username: str,
    admin_password: str,
    admin_full_name: str = "",
    government: str = "",
    department: str = "",
    division: str = "",
    address: str = "",
    city: str = "",
    phone: str = "",
    email: str = "",
) -> InitResult:
    settings = brankas_settings()
    if not office_name.strip():
        raise InvalidInput("field_required", field="office")
    if not admin_username.strip():
        raise InvalidInput("field_required", field="admin")
    # The archive's store and age: not a cost of every command's sign-in (issue 15).
    from brankas.core import crypto
    from brankas.core.register import store as core_store

    recovery = crypto.generate()
    if Office.objects.exists():
        raise SetupError("already_initialized", home=str(settings.home))
    # Everything that can fail runs before the commit: once the office exists, its recovery
    # key's secret must reach the person setting it up (it is stored nowhere).
    core_store.create_layout(settings)
    with transaction.atomic():
        if Office.objects.exists():
            raise SetupError("already_initialized", home=str(settings.home))
        admin = User(username=admin_username.strip(), role=Role.ADMIN.value,
                     full_name=admin_full_name.strip())
        _check_username(admin)
        _check_password(admin_password, admin)
        admin.set_password(admin_password)
        admin.save()
        office = Office.objects.create(
            name=office_name.strip(),
            government=government,
            department=department,
            division=division,
            address=address,
            city=city,
            phone=phone,
            email=email,
            agenda_format=agenda.check_template(Office._meta.get_field("agenda_format").default),
            recovery_recipient=recovery.recipient,
        )
        audit_record(
            actor=admin.username,
            action="office.init",
            target=office.name,
            detail={"recovery_recipient": recovery.recipient},
        )
        from brankas.web.keys.services import keys_write_files, recovery_anchor_set

        recovery_anchor_set(identity_text=recovery.identity)
        keys_write_files()
    return InitResult(office=office, admin=admin, recovery_identity=recovery.identity)


def user_create(
    *,
    actor: User,
    username: str,
    role: str,
    password: str,
    full_name: str = "",
    position: str = "",
    nip: str = "",
) -> User:
    require_audited(actor, Action.MANAGE_USERS, target=username)
    role_enum = _parse_role(role)
    username = username.strip()
    if not username:
        raise InvalidInput("field_required", field="username")
    nip = nip.strip().replace(" ", "")
    if nip and not (nip.isdigit() and len(nip) == 18):
        raise InvalidInput("field_invalid", field="NIP", detail=("18 angka", "18 digits"))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict("user_exists", username=username)
        user = User(
            username=username,
            role=role_enum.value,
            full_name=full_name.strip(),
            position=position.strip(),
            nip=nip,
        )
        _check_username(user)
        _check_password(password, user)
        user.set_password(password)
        user.save()
        audit_record(
            actor=actor.username,
            action="user.create",
            target=username,
            detail={"role": role_enum.value},
        )
    return user


def _authenticate_without_request(username: str, password: str) -> User | None:
    """The configured authentication backends but django-axes's, which needs a request
    (the command line's lockout is ``lockout``'s)."""
    from axes.backends import AxesStandaloneBackend
    from django.contrib.auth import get_backends

    for backend in get_backends():
        if isinstance(backend, AxesStandaloneBackend):
            continue
        user = backend.authenticate(None, username=username, password=password)
        if user is not None:
            return user  # type: ignore[no-any-return]
    return None


def user_authenticate(*, username: str, password: str, request: HttpRequest | None = None) -> User:
    """The user, if ``password`` is theirs; every failure is audited and counted by the
    lockout. A failure for a name that is no user's is recorded as ``unknown:<tag>``
    (``loginname``): what was typed there is often a password.

    ``request``: the web's sign-in, counted by django-axes through its backend; without
    one (the command line) the same count is kept by ``lockout`` in django-axes's table."""
    from axes.handlers.proxy import AxesProxyHandler

    name = login_name(username, request)
    via = request.META.get("HTTP_USER_AGENT", "") if request is not None else lockout.CLI_AGENT
    # The source the lock-out counts by (web only): the audit names it too.
    source = {"address": lockout.client_address(request)} if request is not None else {}

    def locked() -> bool:
        if request is None:
            return lockout.login_locked(name)
        return bool(AxesProxyHandler.is_locked(request, {"username": username}))

    if locked():
        audit_record(actor=name, action="auth.login", outcome="denied",
                     detail={"reason": "locked", "via": via, **source})
        raise AuthenticationFailed("auth_locked")
    if request is not None:
        user = authenticate(request, username=username, password=password)
    else:
        user = _authenticate_without_request(username, password)
    if user is None or not user.is_active:
        audit_record(actor=name, action="auth.login", outcome="failed",
                     detail={"via": via, **source})
        if request is None:
            lockout.login_failed(name, agent=via)
        if locked():
            raise AuthenticationFailed("auth_locked")
        raise AuthenticationFailed("auth_failed")
    assert isinstance(user, User)
    audit_record(actor=user.username, action="auth.login", detail={"via": via, **source})
    return user
