"""Who may do what: the role × action matrix of the SOP, enforced in the services.

The web and the CLI call the same services, so they refuse exactly the same things.
``docs/access.md`` prints this matrix; a test checks the two agree.
"""

from __future__ import annotations

from enum import StrEnum

from brankas.core.errors import AccessDenied
from brankas.core.terms import Role


class Action(StrEnum):
    REGISTER = "register"  # register a document (SOP step 1-5)
    IMPORT = "import"  # bulk import an old four-folder tree
    LIST = "list"  # list and search the register
    VIEW = "view"  # see a document's metadata
    OPEN_REGULAR = "open-regular"  # read a biasa document's content
    OPEN_EXEMPTED = "open-exempted"  # decrypt an exempted document (needs own key)
    MANAGE_USERS = "manage-users"
    MANAGE_KEYS = "manage-keys"  # create a key for any holder
    OWN_KEY = "own-key"  # create one's own key (key holders)
    OFFICE_SETTINGS = "office-settings"
    BACKUP = "backup"  # copy the archive to an external disk (SOP step 6)
    VERIFY_DISK = "verify-disk"  # check a backup disk's fixity
    RESTORE = "restore"  # copy documents back from a backup disk
    DRILL = "drill"  # a restore drill of a backup disk
    VIEW_BACKUPS = "view-backups"  # the control lists and the disks (SOP step 8 attachment)
    VIEW_AUDIT = "view-audit"  # browse and export the audit log


S, KS, KB, KD, AD = Role.SANDIMAN, Role.KASI, Role.KABID, Role.KADIS, Role.ADMIN
ALL = frozenset(Role)
MATRIX: dict[Action, frozenset[Role]] = {
    Action.REGISTER: frozenset({S}),
    Action.IMPORT: frozenset({S, AD}),
    Action.LIST: ALL,
    Action.VIEW: ALL,
    Action.OPEN_REGULAR: ALL,
    Action.OPEN_EXEMPTED: frozenset({KS, KB, KD}),
    Action.MANAGE_USERS: frozenset({AD}),
    Action.MANAGE_KEYS: frozenset({AD}),
    Action.OWN_KEY: frozenset({KS, KB, KD}),
    Action.OFFICE_SETTINGS: frozenset({AD}),
    Action.BACKUP: frozenset({S}),
    Action.VERIFY_DISK: frozenset({S}),
    Action.RESTORE: frozenset({S, KS, KB, KD}),
    Action.DRILL: frozenset({S, KS, KB, KD}),
    Action.VIEW_BACKUPS: ALL,
    Action.VIEW_AUDIT: frozenset({KS, KB, AD}),
}

# What the action is called in a refusal ("the role X may not ...").
ACTION_WORDS = {
    Action.REGISTER: ("mendaftarkan dokumen", "register documents"),
    Action.IMPORT: ("mengimpor arsip", "import archives"),
    Action.LIST: ("melihat daftar agenda", "list the register"),
    Action.VIEW: ("melihat dokumen", "view documents"),
    Action.OPEN_REGULAR: ("membuka dokumen biasa", "open regular documents"),
    Action.OPEN_EXEMPTED: ("membuka dokumen dikecualikan", "open exempted documents"),
    Action.MANAGE_USERS: ("mengelola pengguna", "manage users"),
    Action.MANAGE_KEYS: ("mengelola kunci", "manage keys"),
    Action.OWN_KEY: ("memegang kunci dekripsi", "hold a decryption key"),
    Action.OFFICE_SETTINGS: ("mengubah pengaturan kantor", "change the office settings"),
    Action.BACKUP: ("mem-back up arsip ke disk eksternal", "back up the archive to a disk"),
    Action.VERIFY_DISK: ("memeriksa disk back up", "verify backup disks"),
    Action.RESTORE: ("memulihkan dokumen dari disk back up", "restore documents from a disk"),
    Action.DRILL: ("melakukan uji pemulihan", "run restore drills"),
    Action.VIEW_BACKUPS: ("melihat daftar kontrol back up", "view the backup control lists"),
    Action.VIEW_AUDIT: ("melihat log audit", "view the audit log"),
}


def allowed(role: Role | str, action: Action) -> bool:
    return Role(role) in MATRIX[action]


def require(role: Role | str, action: Action) -> None:
    if not allowed(role, action):
        raise AccessDenied("permission_denied", role=Role(role).value, action=ACTION_WORDS[action])
