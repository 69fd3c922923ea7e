"""The office profile after the first run: reading it, the admin's edits (audited), and
what every paper takes from it (letterhead, place of signing, the SOP as cited, people
with their NIP).

Papers printed after an edit show the new profile; an approved report keeps the bytes it
was approved with (``Report.final_pdf``), so it keeps the profile it had.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.errors import InvalidInput
from brankas.core.printing.dates import date_id
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record

# The fields an admin may edit, with their labels (Bahasa Indonesia, English).
TEXT_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("nama instansi", "office name"),
    "government": ("baris pemerintah", "government line"),
    "department": ("baris dinas", "department line"),
    "division": ("baris bidang", "division line"),
    "letterhead_extra": ("baris tambahan kop", "extra letterhead line"),
    "address": ("alamat", "address"),
    "city": ("kota", "city"),
    "place": ("tempat penandatanganan", "place of signing"),
    "phone": ("telepon", "phone"),
    "email": ("pos-el", "e-mail"),
    "sop_number": ("nomor SOP", "SOP number"),
    "sop_approved_by": ("SOP disahkan oleh", "SOP approved by"),
}
DATE_FIELDS: dict[str, tuple[str, str]] = {
    "sop_made_on": ("tanggal pembuatan SOP", "SOP made on"),
    "sop_revised_on": ("tanggal revisi SOP", "SOP revised on"),
    "sop_effective_on": ("tanggal efektif SOP", "SOP effective on"),
}
FIELDS = (*TEXT_FIELDS, *DATE_FIELDS)

MAX_LOGO_BYTES = 2 * 1024 * 1024  # the file as uploaded
MAX_LOGO_PIXELS = 4096 * 4096  # width x height, checked before the pixels are decoded
LOGO_SIDE = 600  # the stored PNG fits in LOGO_SIDE x LOGO_SIDE


# -- reading -----------------------------------------------------------------------------

def office_profile() -> Office:
    return Office.objects.get()


def logo_sha256(office: Office) -> str:
    return hashlib.sha256(bytes(office.logo)).hexdigest() if office.logo else ""


def office_as_dict(office: Office) -> dict[str, Any]:
    """The profile as plain data (``brankas office show --json``); the logo as its hash."""
    out: dict[str, Any] = {name: getattr(office, name) for name in TEXT_FIELDS}
    out.update({name: (getattr(office, name).isoformat() if getattr(office, name) else None)
                for name in DATE_FIELDS})
    out["logo"] = ({"type": office.logo_type, "bytes": len(bytes(office.logo)),
                    "sha256": logo_sha256(office)} if office.logo else None)
    out["signature_place"] = office.signature_place
    out["updated_at"] = office.updated_at.isoformat() if office.updated_at else None
    return out


# -- the logo ----------------------------------------------------------------------------

def logo_clean(data: bytes) -> bytes:
    """An uploaded logo, checked and drawn again as a PNG: PNG or JPEG only, at most
    MAX_LOGO_BYTES and MAX_LOGO_PIXELS, its pixels re-encoded so that nothing of the
    uploaded file's other bytes (metadata, trailing data) is kept."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput("office_logo_too_large", limit=MAX_LOGO_BYTES // 1024)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ("PNG", "JPEG"):
                raise InvalidInput("office_logo_invalid")
            if width < 1 or height < 1 or width * height > MAX_LOGO_PIXELS:
                raise InvalidInput("office_logo_too_large", limit=MAX_LOGO_BYTES // 1024)
            probe.load()
            # A photo taken on its side carries its turn in EXIF: store it upright (the
            # PDF ignores EXIF, so the logo would print on its side).
            upright = ImageOps.exif_transpose(probe)
            if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit grey: scaled to 8 bits (a plain convert clips it to white)
                upright = upright.convert("I").point(lambda v: v / 256).convert("L")
            has_alpha = probe.mode in ("RGBA", "LA", "PA") or (
                probe.mode == "P" and "transparency" in probe.info)
            image = upright.convert("RGBA" if has_alpha else "RGB")
    except InvalidInput:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, before ours is reached
        raise InvalidInput("office_logo_too_large", limit=MAX_LOGO_BYTES // 1024) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("office_logo_invalid") from None
    image.thumbnail((LOGO_SIDE, LOGO_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# -- the admin's edit ---------------------------------------------------------------------

def _clean_text(name: str, value: Any) -> str:
    text = " ".join(str(value or "").split())
    limit = getattr(Office._meta.get_field(name), "max_length", None)
    if limit and len(text) > limit:
        raise InvalidInput("field_too_long", field=TEXT_FIELDS[name], limit=limit)
    if name == "name" and not text:
        raise InvalidInput("field_required", field=TEXT_FIELDS[name])
    if name == "email" and text:
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput("field_invalid", field=TEXT_FIELDS[name],
                               detail=("bukan alamat pos-el", "not an e-mail address")
                               ) from None
    return text


def _clean_date(name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("field_invalid", field=DATE_FIELDS[name],
                           detail=("tanggal TTTT-BB-HH", "a date YYYY-MM-DD")) from None


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def office_update(*, actor: User, changes: dict[str, Any], logo: bytes | None = None,
                  remove_logo: bool = False) -> Office:
    """Change the office profile (admin only, ``office-settings``). ``changes``: field
    name -> new value, only the fields to change; ``logo``: an uploaded PNG or JPEG
    (checked and re-encoded), ``remove_logo``: no logo any more. Audited as
    ``office.update`` with every change as before -> after (the logo as its SHA-256)."""
    require_audited(actor, Action.OFFICE_SETTINGS, target="office")
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"not an office field: {sorted(unknown)}")
    if logo is not None and remove_logo:
        raise InvalidInput("office_logo_both")
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        cleaned[name] = (_clean_text(name, value) if name in TEXT_FIELDS
                         else _clean_date(name, value))
    new_logo = logo_clean(logo) if logo is not None else None
    with transaction.atomic():
        office = Office.objects.select_for_update().get()
        changed: dict[str, list[Any]] = {}
        for name, value in cleaned.items():
            before = getattr(office, name)
            if before != value:
                changed[name] = [_shown(before), _shown(value)]
                setattr(office, name, value)
        before_logo = logo_sha256(office)
        if remove_logo and office.logo:
            office.logo, office.logo_type = None, ""
        elif new_logo is not None:
            office.logo, office.logo_type = new_logo, "image/png"
        after_logo = logo_sha256(office)
        if before_logo != after_logo:
            changed["logo"] = [before_logo or None, after_logo or None]
        if not changed:
            return office
        office.updated_at = timezone.now()
        office.save()
        audit_record(actor=actor.username, action="office.update", target=office.name,
                     detail={"changed": changed})
    return office


# -- what the papers take from it ---------------------------------------------------------

@dataclass(frozen=True)
class Letterhead:
    """The kop surat as the Tata Naskah Dinas lays it out."""

    first: str  # PEMERINTAH KABUPATEN ... (or the office's name)
    lines: tuple[str, ...]  # DINAS ..., BIDANG ...
    contact: tuple[str, ...]  # address, phone, e-mail; the extra line
    logo: bytes | None


def letterhead(office: Office) -> Letterhead:
    first = office.government or office.name
    lines = [office.department or (office.name if office.government else ""),
             office.division]
    address = ", ".join(x for x in (office.address, office.city) if x)
    contact_parts = [address, office.phone and f"Telepon {office.phone}",
                     office.email and f"Pos-el {office.email}"]
    contact = [", ".join(x for x in contact_parts if x)]
    if office.letterhead_extra:
        contact.append(office.letterhead_extra)
    return Letterhead(
        first=first.upper(),
        lines=tuple(x.upper() for x in lines if x and x.upper() != first.upper()),
        contact=tuple(x for x in contact if x),
        logo=bytes(office.logo) if office.logo else None)


def sop_citation(office: Office) -> str:
    """The SOP as a paper cites it: "SOP Nomor 800/12/2026 tanggal efektif 2 Januari
    2026"; empty when the office has not entered the SOP's number."""
    if not office.sop_number:
        return ""
    text = f"SOP Nomor {office.sop_number}"
    when = office.sop_effective_on or office.sop_revised_on or office.sop_made_on
    if when:
        text += f" tanggal {date_id(when)}"
    return text


def place_date(office: Office, when: Any = None) -> str:
    """"Lolak, 5 Desember 2026": the place of signing and the date, above signatures."""
    day = date_id(timezone.localtime(when or timezone.now()))
    return f"{office.signature_place}, {day}" if office.signature_place else day


def office_holder(role: str) -> User | None:
    """The one active user in ``role`` (the Kasi, the Kadis), or None when there is none
    or several (the paper then leaves the name to be written by hand)."""
    users = list(User.objects.filter(role=role, is_active=True).order_by("pk")[:2])
    return users[0] if len(users) == 1 else None


def person(user: User | None) -> str:
    """A person as printed in a table: the full name and the NIP."""
    if user is None:
        return "-"
    name = user.full_name or user.username
    return f"{name}\nNIP {user.nip}" if user.nip else name
