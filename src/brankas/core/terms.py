"""Official Indonesian terms and the classification policy, defined once.

Code and logs are English; these values are what is stored, shown and used as folder names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class Direction(StrEnum):
    OUTGOING = "pengiriman"
    INCOMING = "penerimaan"


class Classification(StrEnum):
    BIASA = "biasa"
    TERBATAS = "terbatas"
    RAHASIA = "rahasia"
    SANGAT_RAHASIA = "sangat-rahasia"


class Category(StrEnum):
    """The SOP's two top folders."""

    REGULAR = "biasa"
    EXEMPTED = "dikecualikan"


class Role(StrEnum):
    SANDIMAN = "sandiman"
    KASI = "kasi"
    KABID = "kabid"
    KADIS = "kadis"
    ADMIN = "admin"


# Labels as the officials write them (Bahasa Indonesia); the web translates the English ones.
DIRECTION_LABELS = {
    Direction.OUTGOING: "Pengiriman",
    Direction.INCOMING: "Penerimaan",
}
CLASSIFICATION_LABELS = {
    Classification.BIASA: "Biasa",
    Classification.TERBATAS: "Terbatas",
    Classification.RAHASIA: "Rahasia",
    Classification.SANGAT_RAHASIA: "Sangat Rahasia",
}
CATEGORY_LABELS = {
    Category.REGULAR: "Biasa",
    Category.EXEMPTED: "Dikecualikan",
}
ROLE_LABELS = {
    Role.SANDIMAN: "Sandiman",
    Role.KASI: "Kasi Tata Kelola Persandian",
    Role.KABID: "Kabid Persandian dan Statistik",
    Role.KADIS: "Kepala Dinas",
    Role.ADMIN: "Administrator",
}

# Roles whose members may hold a decryption key (the Sandiman encrypts but never decrypts).
KEY_HOLDER_ROLES = frozenset({Role.KASI, Role.KABID, Role.KADIS})

# Short codes used in the default agenda number: surat Keluar / surat Masuk.
DIRECTION_CODES = {Direction.OUTGOING: "K", Direction.INCOMING: "M"}

ARCHIVE_DIR = "arsip"


def category_of(classification: Classification | str) -> Category:
    """Terbatas, Rahasia and Sangat Rahasia are exempted (UU 14/2008 art. 17); Biasa is not."""
    if Classification(classification) is Classification.BIASA:
        return Category.REGULAR
    return Category.EXEMPTED


def is_exempted(classification: Classification | str) -> bool:
    return category_of(classification) is Category.EXEMPTED


def parse_classification(text: str) -> Classification:
    """Accept the stored value, the label, or underscores/spaces for the hyphen."""
    norm = text.strip().lower().replace("_", "-").replace(" ", "-")
    return Classification(norm)


E = TypeVar("E", bound=StrEnum)


def choices(labels: Mapping[E, str]) -> list[tuple[str, str]]:
    """A label table as a model field's choices: (stored value, label), in the table's order."""
    return [(member.value, label) for member, label in labels.items()]


def store_folders() -> list[tuple[Category, Direction]]:
    """The SOP's four folders, in the SOP's order (step 5: a, b, c, d)."""
    return [
        (Category.REGULAR, Direction.OUTGOING),
        (Category.REGULAR, Direction.INCOMING),
        (Category.EXEMPTED, Direction.OUTGOING),
        (Category.EXEMPTED, Direction.INCOMING),
    ]


# Urgency of a message to be sent (derajat kecepatan berita), fastest last.
class Urgency(StrEnum):
    BIASA = "biasa"
    SEGERA = "segera"
    SANGAT_SEGERA = "sangat-segera"
    KILAT = "kilat"


URGENCY_LABELS = {
    Urgency.BIASA: "Biasa",
    Urgency.SEGERA: "Segera",
    Urgency.SANGAT_SEGERA: "Sangat Segera",
    Urgency.KILAT: "Kilat",
}

# Where the letters attached to requests to send a message wait until they are registered
# (not one of the SOP's four folders: a request's letter is not yet in the register).
REQUESTS_DIR = "permintaan"


def parse_urgency(text: str) -> Urgency:
    """Accept the stored value, the label, or underscores/spaces for the hyphen."""
    return Urgency(text.strip().lower().replace("_", "-").replace(" ", "-"))


# The unit's equipment (issue 17): the SOP's PERALATAN/PERLENGKAPAN list, and the
# condition of an item as an inventory of state property (barang milik daerah) records it.
class EquipmentKind(StrEnum):
    COMPUTER = "komputer-laptop"
    SCANNER = "pemindai"
    MESSAGE_APP = "aplikasi-berita"
    ENCRYPTION = "peralatan-enkripsi"
    EXTERNAL_DISK = "hard-disk-eksternal"
    SAFE = "brankas"
    KEYS_PINS = "kunci-pin-berkas"
    OTHER = "lainnya"


EQUIPMENT_KIND_LABELS = {
    EquipmentKind.COMPUTER: "Komputer / laptop",
    EquipmentKind.SCANNER: "Pemindai (scanner)",
    EquipmentKind.MESSAGE_APP: "Aplikasi berita elektronik",
    EquipmentKind.ENCRYPTION: "Peralatan enkripsi",
    EquipmentKind.EXTERNAL_DISK: "Hard disk eksternal",
    EquipmentKind.SAFE: "Brankas",
    EquipmentKind.KEYS_PINS: "Kunci dan pin berkas",
    EquipmentKind.OTHER: "Lainnya",
}


class Condition(StrEnum):
    GOOD = "baik"
    LIGHTLY_DAMAGED = "rusak-ringan"
    BADLY_DAMAGED = "rusak-berat"
    INACTIVE = "tidak-aktif"


CONDITION_LABELS = {
    Condition.GOOD: "Baik",
    Condition.LIGHTLY_DAMAGED: "Rusak ringan",
    Condition.BADLY_DAMAGED: "Rusak berat",
    Condition.INACTIVE: "Tidak aktif",
}

# The conditions the dashboard and the report warn of.
DAMAGED_CONDITIONS = frozenset({Condition.LIGHTLY_DAMAGED, Condition.BADLY_DAMAGED})


def parse_equipment_kind(text: str) -> EquipmentKind:
    """Accept the stored value, the label's first word, or underscores/spaces for the hyphen."""
    norm = "-".join(part for part in re.split(r"[\s_/-]+", text.strip().lower()) if part)
    aliases = {"komputer": "komputer-laptop", "laptop": "komputer-laptop",
               "scanner": "pemindai", "enkripsi": "peralatan-enkripsi",
               "hard-disk": "hard-disk-eksternal", "disk": "hard-disk-eksternal",
               "kunci": "kunci-pin-berkas", "aplikasi": "aplikasi-berita"}
    return EquipmentKind(aliases.get(norm, norm))


def parse_condition(text: str) -> Condition:
    """Accept the stored value, the label, or underscores/spaces for the hyphen."""
    return Condition(text.strip().lower().replace("_", "-").replace(" ", "-"))
