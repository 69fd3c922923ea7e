"""The start page: the four SOP folders, the latest registrations, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from brankas.core.access import Action, allowed
from brankas.core.terms import KEY_HOLDER_ROLES, Category, Role, store_folders
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import lockouts_now, unqualified_sandimans, user_list
from brankas.web.backup.selectors import backup_status
from brankas.web.custody.selectors import custody_warnings
from brankas.web.documents.selectors import document_counts, document_list
from brankas.web.equipment.selectors import equipment_warnings
from brankas.web.keys.selectors import any_key_holder, key_warnings, user_has_key
from brankas.web.reports.selectors import report_inbox
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.selectors import request_inbox, request_overdue
from brankas.web.ui import labels
from brankas.web.ui.common import actor
from brankas.web.ui.keys.links import optional_url

RECENT = 10


@dataclass(frozen=True)
class Folder:
    title: str
    category: str
    direction: str
    count: int
    exempted: bool


@dataclass(frozen=True)
class Hint:
    level: str  # info, warning
    text: str
    link: str = ""
    link_text: str = ""


def folder_counts() -> list[Folder]:
    counts = document_counts()
    return [
        Folder(
            title=labels.folder_title(category, direction),
            category=category.value,
            direction=direction.value,
            count=counts.get((category.value, direction.value), 0),
            exempted=category is Category.EXEMPTED,
        )
        for category, direction in store_folders()
    ]


def hints_for(user: User) -> list[Hint]:
    role = Role(user.role)
    any_holder = any_key_holder()
    keys = reverse("ui:keys")
    hints = []
    if role is Role.ADMIN and not any_holder:
        hints.append(Hint("warning", _("No key holder has a key yet, so exempted documents "
                                       "cannot be registered. A Kasi, Kabid or Kadis creates "
                                       "their own key, or you create one for them."),
                          keys, _("Keys")))
    if role is Role.ADMIN and not user_list(actor=user, via="web").filter(
            role=Role.SANDIMAN.value).exists():
        hints.append(Hint("info", _("There is no Sandiman yet: add a user with the role "
                                    "Sandiman to register documents."),
                          reverse("ui:users"), _("Users")))
    if role in KEY_HOLDER_ROLES and not user_has_key(user.pk):
        hints.append(Hint("warning", _("You do not have a decryption key yet. Create one to "
                                       "open exempted documents registered from now on."),
                          keys, _("Create my key")))
    if role is Role.SANDIMAN and not any_holder:
        hints.append(Hint("warning", _("No key holder has a key yet: only Biasa documents can "
                                       "be registered until a Kasi, Kabid or Kadis creates one.")))
    return hints


def backup_hints() -> list[Hint]:
    """Documents on no disk, on fewer than two, and a backup overdue: for every role."""
    status = backup_status()
    link, link_text = reverse("ui:backup"), _("Backup")
    hints = []
    if "on_no_disk" in status.warnings:
        hints.append(Hint("warning", ngettext(
            "%(count)d document is not on any backup disk yet.",
            "%(count)d documents are not on any backup disk yet.",
            status.on_no_disk) % {"count": status.on_no_disk}, link, link_text))
    if "fewer_than_two" in status.warnings:
        hints.append(Hint("warning", ngettext(
            "%(count)d document is on only one backup disk; keep every document on two.",
            "%(count)d documents are on only one backup disk; keep every document on two.",
            status.on_one_disk) % {"count": status.on_one_disk}, link, link_text))
    if "overdue" in status.warnings:
        if status.last_backup_at is None:
            text = _("No backup has been made yet.")
        else:
            text = ngettext(
                "The last backup was on %(date)s, more than %(days)d day ago.",
                "The last backup was on %(date)s, more than %(days)d days ago.",
                status.max_age_days) % {
                    "date": date_format(localtime(status.last_backup_at), "j M Y"),
                    "days": status.max_age_days}
        hints.append(Hint("warning", text, link, link_text))
    return hints


def custody_hints() -> list[Hint]:
    """Disks out of their safe too long, not verified for long, lost, or all in one safe."""
    hints = []
    for w in custody_warnings():
        p = w.params
        link = reverse("ui:backup_media")
        if w.code == "out_too_long":
            text = ngettext(
                "Disk %(label)s has been out of its safe for %(hours)d hour; return it and "
                "record the check-in.",
                "Disk %(label)s has been out of its safe for %(hours)d hours; return it and "
                "record the check-in.", p["hours"]) % p
        elif w.code == "not_verified":
            text = (_("Disk %(label)s has never been verified; check it (Verify a disk).") % p
                    if p["never"] else
                    ngettext("Disk %(label)s was last verified %(days)d day ago; check it again.",
                             "Disk %(label)s was last verified %(days)d days ago; check it again.",
                             p["days"]) % p)
        elif w.code == "one_safe":
            text = _("Every backup disk is in the same safe (%(safe)s): keep at least one in "
                     "another place, so one fire or theft cannot take them all.") % p
            link = reverse("ui:offsite")  # s18 OC: the other place may be an offsite copy
            hints.append(Hint("warning", text, link, _("Offsite copies")))
            continue
        else:  # lost
            text = _("Disk %(label)s is recorded as lost: its copies no longer count.") % p
        hints.append(Hint("warning", text, link, _("Backup disks")))
    return hints
def offsite_hints(user: User) -> list[Hint]:
    """s18 OC (issue 18): a remote NOT immutable, a daily push not done for days (every
    role that sees the backups); no offsite copy at all (the Sandiman, who makes one, once
    the archive holds a document)."""
    from brankas.web.documents.models import Document
    from brankas.web.offsite.warnings import offsite_warnings

    if not allowed(user.role, Action.VIEW_BACKUPS):
        return []
    link, link_text = reverse("ui:offsite"), _("Offsite copies")
    hints = []
    for w in offsite_warnings():
        p = w.params
        if w.code == "not_immutable":
            hints.append(Hint("warning", _(
                "Offsite remote %(name)s is NOT IMMUTABLE: its server deleted an object that "
                "was locked. Ransomware holding its keys could delete that copy.") % p,
                reverse("ui:offsite_remote", args=[p["name"]]), p["name"]))
        elif w.code == "verify_failed":  # s18 review
            hints.append(Hint("warning", _(
                "The last check of offsite remote %(name)s found problems (objects missing, "
                "changed or not locked): see its page and check it again.") % p,
                reverse("ui:offsite_remote", args=[p["name"]]), p["name"]))
        elif w.code == "push_stale":
            text = (_("The daily push to offsite remote %(name)s has not succeeded for more "
                      "than %(days)d days (last: %(date)s).") % {
                          **p, "date": date_format(localtime(p["last"]), "j M Y H:i")}
                    if p["last"] else
                    _("The daily push to offsite remote %(name)s has never succeeded.") % p)
            hints.append(Hint("warning", text, reverse("ui:offsite_remote", args=[p["name"]]),
                              p["name"]))
        elif allowed(user.role, Action.OFFSITE_ADD) and Document.objects.exists():
            hints.append(Hint("warning", _(
                "The archive has no offsite copy: every copy is in this building. Add an "
                "offsite remote (object storage with Object Lock) and push to it."),
                link, link_text))
    return hints


def request_hints(user: User) -> list[Hint]:
    """Requests to send open longer than BRANKAS_REQUEST_MAX_OPEN_HOURS (roles that see them)."""
    if not allowed(user.role, Action.REQUEST_VIEW):
        return []
    hours = brankas_settings().request_max_open_hours
    count = request_overdue(actor=user, hours=hours, via="web").count()
    if not count:
        return []
    return [Hint("warning", ngettext(
        "%(count)d request to send has been open longer than %(hours)d hours.",
        "%(count)d requests to send have been open longer than %(hours)d hours.",
        count) % {"count": count, "hours": hours},
        reverse("ui:requests") + "?show=overdue", _("Requests to send"))]


# Who sees which key warning: those who can act on it. A holder proves their own
# passphrase; the admin splits and checks the recovery shares; every role that sees the
# coverage learns of documents only the recovery key opens.
RECOVERY_WARNINGS = {"no_recovery_split", "recovery_check_old", "several_splits"}


def key_hints(user: User) -> list[Hint]:
    """The key life cycle's warnings (``keys.selectors.key_warnings``) for this user."""
    role = Role(user.role)
    if not allowed(user.role, Action.VIEW_KEY_COVERAGE):
        return []
    keys = reverse("ui:keys")
    hints = []
    for w in key_warnings():
        p = w.params
        if w.code == "documents_recovery_only":
            text = ngettext(
                "%(count)d exempted document or request letter can be opened only with the "
                "office recovery key: no active key holder can open it.",
                "%(count)d exempted documents and request letters can be opened only with the "
                "office recovery key: no active key holder can open them.", p["count"]) % p
            link = optional_url("ui:key_coverage", show="recovery-only") or keys
            hints.append(Hint("warning", text, link, _("Key coverage")))
        elif w.code == "key_unchecked" and p["username"] == user.username:
            values = {"months": p["months"], "date": date_format(localtime(p["since"]), "j M Y")}
            text = (ngettext(
                "Your key's passphrase has not been checked since the key was made on %(date)s "
                "(%(months)d month): check it now, while a forgotten passphrase can still be "
                "dealt with.",
                "Your key's passphrase has not been checked since the key was made on %(date)s "
                "(%(months)d months): check it now, while a forgotten passphrase can still be "
                "dealt with.", p["months"]) if p["never"] else ngettext(
                "You last proved your key's passphrase on %(date)s, %(months)d month ago: "
                "check it again.",
                "You last proved your key's passphrase on %(date)s, %(months)d months ago: "
                "check it again.", p["months"])) % values
            link = optional_url("ui:key_check", user.username) or keys
            hints.append(Hint("warning", text, link, _("Check my key")))
        elif w.code in RECOVERY_WARNINGS and role is Role.ADMIN:
            hints.append(_recovery_hint(w.code, p, keys))
    return hints


def _recovery_hint(code: str, p: dict[str, Any], keys: str) -> Hint:
    if code == "no_recovery_split":
        return Hint("warning", _(
            "The office recovery key has no recorded shares. If its paper is lost when no "
            "holder can open a document, that document is lost for good: split the key into "
            "shares (K of N) and keep them in different places."),
            optional_url("ui:recovery_split") or keys, _("Split the recovery key"))
    if code == "recovery_check_old":
        values = {"days": p["days"], "date": date_format(localtime(p["since"]), "j M Y")}
        text = (_("The recovery shares were made on %(date)s and have never been checked: "
                  "check that a set of them still rebuilds the recovery key.")
                if p["never"] else
                _("The recovery shares were last checked on %(date)s, more than a year ago: "
                  "check that a set of them still rebuilds the recovery key.")) % values
        return Hint("warning", text, optional_url("ui:recovery_check") or keys,
                    _("Check the shares"))
    return Hint("info", _(
        "The recovery key has been split %(count)d times. The shares of every split still "
        "rebuild it: keep track of all the sheets, or collect and destroy the older ones.")
        % p, keys, _("Keys"))


def administration_hints(user: User) -> list[Hint]:
    """Issue 14: the lock-outs in force (the admin, who can lift them), and Sandimans with
    no qualification recorded (the admin, who records them, and the Kasi, who assigns
    them)."""
    role = Role(user.role)
    users = reverse("ui:users")
    hints = []
    if role is Role.ADMIN:
        for lo in lockouts_now(actor=user, via="web"):
            values = {
                "who": _("a user name that does not exist") if lo.unknown else lo.username,
                "count": lo.failures,
                "where": lo.address or _("the command line"),
                "since": date_format(localtime(lo.since), "j M Y H:i"),
            }
            text = _("Locked out: %(who)s, after %(count)d failed sign-ins from %(where)s, "
                     "since %(since)s.") % values
            if lo.until is not None:
                text += " " + _("The lock-out ends by itself at %(until)s.") % {
                    "until": date_format(localtime(lo.until), "H:i")}
            link = users if lo.unknown else reverse("ui:user", args=[lo.username])
            hints.append(Hint("warning", text, link,
                              _("Users") if lo.unknown else _("Unlock")))
    if role in (Role.ADMIN, Role.KASI):
        missing = unqualified_sandimans()
        if missing:
            names = ", ".join(u.display() for u in missing)
            text = ngettext(
                "No qualification is recorded for the Sandiman %(names)s: the SOP has it "
                "carried out by staff who passed the Diklat Sandiman training.",
                "No qualification is recorded for the Sandimans %(names)s: the SOP has it "
                "carried out by staff who passed the Diklat Sandiman training.",
                len(missing)) % {"names": names}
            if role is Role.ADMIN:
                hints.append(Hint("warning", text, users, _("Users")))
            else:
                hints.append(Hint("warning", text))
    return hints


def equipment_hints(user: User) -> list[Hint]:
    """Issue 17: checks overdue, items in rusak condition, and disks failing, filling up
    or too old, for the roles that see the equipment register; each says what to do."""
    if not allowed(user.role, Action.VIEW_EQUIPMENT):
        return []
    lang = "id" if (get_language() or "id").startswith("id") else "en"
    return [Hint("warning", w.text(lang), reverse("ui:equipment_item", args=[w.url_ref]),
                 _("Equipment")) for w in equipment_warnings()]


def report_inbox_for(user: User) -> list[Any]:
    """The reports waiting for this user's role: the inbox on the dashboard."""
    if not allowed(user.role, Action.VIEW_REPORTS):
        return []
    return list(report_inbox(actor=user, via="web")[:20])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    folders = folder_counts()
    recent = (document_list(actor=user, via="web", target=request.path)
              .select_related(None)[:RECENT]
              if allowed(user.role, Action.LIST) else [])
    return render(request, "ui/dashboard.html", {
        "report_inbox": report_inbox_for(user),
        "folders": folders,
        "total": sum(f.count for f in folders),
        "recent": recent,
        "hints": (administration_hints(user) + hints_for(user) + backup_hints()
                  + custody_hints() + request_hints(user) + key_hints(user)
                  + equipment_hints(user) + offsite_hints(user)),
        "request_inbox": (list(request_inbox(user, via="web")[:RECENT])
                          if allowed(user.role, Action.REQUEST_VIEW) else []),
    })
