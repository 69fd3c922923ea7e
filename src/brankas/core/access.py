"""Who may do what: the role × action matrix of the SOP, enforced in the services.

The web and the CLI call the same services, so they refuse exactly the same things.
``docs/access.md`` prints this matrix; a test checks the two agree.
"""

from __future__ import annotations

from enum import StrEnum

from brankas.core.errors import AccessDenied
from brankas.core.terms import KEY_HOLDER_ROLES, Role


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
    MANAGE_SAFES = "manage-safes"  # add a safe, set its combination (stored encrypted)
    VIEW_COMBINATION = "view-combination"  # read combinations (BRANKAS_COMBINATION_ROLES)
    MOVE_MEDIA = "move-media"  # check disks out of and into safes, retire them (SOP step 7)
    VIEW_CUSTODY = "view-custody"  # the safes (without combinations) and disks' custody log
    # Requests to send a secret message and their assignment chain (the SOP's records 1-5).
    REQUEST_CREATE = "request-create"  # record a request to the Kadis (record 1)
    REQUEST_VIEW = "request-view"  # list and see requests
    REQUEST_ASSIGN_KABID = "request-assign-kabid"  # the Kadis assigns the Kabid (record 2)
    REQUEST_ASSIGN_KASI = "request-assign-kasi"  # the Kabid assigns the Kasi (record 3)
    REQUEST_ASSIGN_SANDIMAN = "request-assign-sandiman"  # the Kasi assigns a Sandiman (4)
    REQUEST_RETURN = "request-return"  # give a request back to the previous holder
    REQUEST_RECEIVE = "request-receive"  # the Sandiman receives the letter (record 5)
    REQUEST_SEND = "request-send"  # the Sandiman records that the message went
    VIEW_AUDIT = "view-audit"  # browse and export the audit log
    VIEW_REPORTS = "view-reports"  # read the reports and their sign-off history
    REPORT_DRAFT = "report-draft"  # create, refresh and submit reports (SOP step 8)
    REPORT_REVIEW = "report-review"  # return, or write the executive summary and forward (9)
    REPORT_VALIDATE = "report-validate"  # return, or approve and forward to the Kadis (10)
    REPORT_ACKNOWLEDGE = "report-acknowledge"  # receive an approved report
    # Keys over time (issue 13). "Own" means the acting holder's own key: the service
    # checks that the key is the actor's, the matrix only the role.
    GRANT_KEY = "grant-key"  # open one's own files to a new holder's key (own passphrase)
    GRANT_KEY_WITH_SHARES = "grant-key-with-shares"  # the same, from the recovery shares
    REVOKE_KEY = "revoke-key"  # take a holder's key out of every future encryption
    # re-protect one's own key with a new passphrase (the old one required)
    CHANGE_PASSPHRASE = "change-passphrase"  # noqa: S105 (an action, not a password)
    CHECK_KEY = "check-key"  # prove one's own passphrase without opening a document
    VIEW_KEY_COVERAGE = "view-key-coverage"  # which active holders open each exempted file
    RECOVERY_SPLIT = "recovery-split"  # split the recovery identity into paper shares
    RECOVERY_CHECK = "recovery-check"  # prove a set of shares rebuilds the recovery key
    # Sealed register fields (issue 16).
    UNSEAL = "unseal"  # see sealed fields with one's own key (unlocked for a while)
    SEAL_FIELDS = "seal-fields"  # seal the existing exempted entries (a holder, or shares)
    # s17 E: the equipment register and its maintenance log (issue 17).
    RECORD_EQUIPMENT = "record-equipment"  # add items, log checks and repairs, retire items
    VIEW_EQUIPMENT = "view-equipment"  # the register, its log and the disks' health
    # s18 OB: offsite copies (issue 18). Listing the remotes is VIEW_BACKUPS.
    OFFSITE_ADD = "offsite-add"  # register an S3 bucket with Object Lock as a remote
    OFFSITE_PUSH = "offsite-push"  # copy the archive to a remote
    OFFSITE_VERIFY = "offsite-verify"  # check a remote's objects and its lock (the canary)
    OFFSITE_RESTORE = "offsite-restore"  # restore documents from a remote (needs a key)
    # s19: the text of biasa documents (issue 19). Seeing the text is OPEN_REGULAR.
    READ_TEXT = "read-text"  # (re)read documents' text: OCR of scans, as a job


S, KS, KB, KD, AD = Role.SANDIMAN, Role.KASI, Role.KABID, Role.KADIS, Role.ADMIN
ALL = frozenset(Role)
HOLDERS = frozenset(KEY_HOLDER_ROLES)  # the roles that may hold a decryption key
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
    Action.MANAGE_SAFES: frozenset({S, KB}),
    Action.VIEW_COMBINATION: frozenset({KB}),  # the default; see combination_roles below
    Action.MOVE_MEDIA: frozenset({S}),
    Action.VIEW_CUSTODY: ALL,
    Action.REQUEST_CREATE: frozenset({S, KS, KB, KD}),
    Action.REQUEST_VIEW: frozenset({S, KS, KB, KD}),
    Action.REQUEST_ASSIGN_KABID: frozenset({KD}),
    Action.REQUEST_ASSIGN_KASI: frozenset({KB}),
    Action.REQUEST_ASSIGN_SANDIMAN: frozenset({KS}),
    Action.REQUEST_RETURN: frozenset({S, KS, KB, KD}),
    Action.REQUEST_RECEIVE: frozenset({S}),
    Action.REQUEST_SEND: frozenset({S}),
    Action.VIEW_AUDIT: frozenset({KS, KB, AD}),
    Action.VIEW_REPORTS: frozenset({S, KS, KB, KD}),
    Action.REPORT_DRAFT: frozenset({S}),
    Action.REPORT_REVIEW: frozenset({KS}),
    Action.REPORT_VALIDATE: frozenset({KB}),
    Action.REPORT_ACKNOWLEDGE: frozenset({KD}),
    Action.GRANT_KEY: HOLDERS,
    Action.GRANT_KEY_WITH_SHARES: frozenset({AD}),
    Action.REVOKE_KEY: frozenset({AD}),
    Action.CHANGE_PASSPHRASE: HOLDERS,
    Action.CHECK_KEY: HOLDERS,
    Action.VIEW_KEY_COVERAGE: HOLDERS | {AD},
    Action.RECOVERY_SPLIT: frozenset({AD}),
    Action.RECOVERY_CHECK: frozenset({AD}),
    Action.UNSEAL: HOLDERS,
    Action.SEAL_FIELDS: HOLDERS | {AD},
    Action.RECORD_EQUIPMENT: frozenset({S}),
    Action.VIEW_EQUIPMENT: frozenset({S, KS, KB}),
    # s18 OB: as the backup disk (the Sandiman), except the restore: everything offsite
    # is encrypted, so only a key holder can restore from it.
    Action.OFFSITE_ADD: frozenset({S}),
    Action.OFFSITE_PUSH: frozenset({S}),
    Action.OFFSITE_VERIFY: frozenset({S}),
    Action.OFFSITE_RESTORE: frozenset({KS, KB, KD}),
    # s19: who registers or imports (the Sandiman; the Admin imports) reads the text again
    Action.READ_TEXT: frozenset({S, AD}),
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
    Action.MANAGE_SAFES: ("mengelola brankas dan kombinasinya", "manage safes and combinations"),
    Action.VIEW_COMBINATION: ("melihat nomor kunci kombinasi", "see combination lock numbers"),
    Action.MOVE_MEDIA: ("memindahkan disk back up", "move backup disks"),
    Action.VIEW_CUSTODY: ("melihat riwayat penyimpanan disk", "view the custody of disks"),
    Action.REQUEST_CREATE: ("mencatat permintaan pengiriman berita",
                            "record requests to send a message"),
    Action.REQUEST_VIEW: ("melihat permintaan pengiriman berita",
                          "view requests to send a message"),
    Action.REQUEST_ASSIGN_KABID: ("menugaskan Kabid", "assign the Kabid"),
    Action.REQUEST_ASSIGN_KASI: ("menugaskan Kasi", "assign the Kasi"),
    Action.REQUEST_ASSIGN_SANDIMAN: ("menugaskan Sandiman", "assign a Sandiman"),
    Action.REQUEST_RETURN: ("mengembalikan permintaan", "return requests"),
    Action.REQUEST_RECEIVE: ("menerima surat yang akan dikirim",
                             "receive the letter to be sent"),
    Action.REQUEST_SEND: ("mencatat pengiriman berita", "record that a message was sent"),
    Action.VIEW_AUDIT: ("melihat log audit", "view the audit log"),
    Action.VIEW_REPORTS: ("melihat laporan", "view reports"),
    Action.REPORT_DRAFT: ("membuat dan mengajukan laporan", "draft and submit reports"),
    Action.REPORT_REVIEW: ("memeriksa laporan dan menulis ringkasan eksekutif",
                           "review reports and write the executive summary"),
    Action.REPORT_VALIDATE: ("mengesahkan laporan", "approve reports"),
    Action.REPORT_ACKNOWLEDGE: ("menerima laporan yang disahkan",
                                "acknowledge approved reports"),
    Action.GRANT_KEY: ("membuka akses arsip dari kuncinya sendiri untuk pemegang kunci baru",
                       "give a new key holder access from their own key"),
    Action.GRANT_KEY_WITH_SHARES: ("membuka akses arsip untuk pemegang kunci dengan "
                                   "bagian kunci pemulihan",
                                   "give a key holder access with the recovery shares"),
    Action.REVOKE_KEY: ("mencabut kunci pemegang kunci", "revoke a holder's key"),
    Action.CHANGE_PASSPHRASE: ("mengganti frasa sandi kuncinya", "change their key's passphrase"),
    Action.CHECK_KEY: ("menguji frasa sandi kuncinya", "check their key's passphrase"),
    Action.VIEW_KEY_COVERAGE: ("melihat cakupan kunci", "view the key coverage"),
    Action.RECOVERY_SPLIT: ("membagi kunci pemulihan menjadi beberapa bagian",
                            "split the recovery key into shares"),
    Action.RECOVERY_CHECK: ("menguji bagian kunci pemulihan", "check recovery shares"),
    Action.UNSEAL: ("melihat isian tersegel dengan kuncinya sendiri",
                    "see sealed fields with their own key"),
    Action.SEAL_FIELDS: ("menyegel isian register yang ada", "seal the existing register fields"),
    Action.RECORD_EQUIPMENT: ("mencatat peralatan dan pemeliharaannya",
                              "record equipment and its maintenance"),
    Action.VIEW_EQUIPMENT: ("melihat daftar peralatan", "view the equipment register"),
    Action.OFFSITE_ADD: ("mendaftarkan penyimpanan di luar kantor", "add an offsite remote"),
    Action.OFFSITE_PUSH: ("mengirim arsip ke penyimpanan di luar kantor",
                          "push the archive to an offsite remote"),
    Action.OFFSITE_VERIFY: ("memeriksa salinan di luar kantor", "verify an offsite copy"),
    Action.OFFSITE_RESTORE: ("memulihkan dokumen dari salinan di luar kantor",
                             "restore documents from an offsite copy"),
    Action.READ_TEXT: ("membaca ulang teks dokumen (OCR)", "read documents' text again (OCR)"),
}


def allowed(role: Role | str, action: Action) -> bool:
    return Role(role) in MATRIX[action]


def require(role: Role | str, action: Action) -> None:
    if not allowed(role, action):
        raise AccessDenied("permission_denied", role=Role(role).value, action=ACTION_WORDS[action])


def require_combination(role: Role | str, combination_roles: frozenset[str]) -> None:
    """Who reads combinations is the office's choice among the key holders
    (``BRANKAS_COMBINATION_ROLES``, the Kabid by default): the matrix shows the default."""
    if Role(role).value not in combination_roles or Role(role) not in KEY_HOLDER_ROLES:
        raise AccessDenied("permission_denied", role=Role(role).value,
                           action=ACTION_WORDS[Action.VIEW_COMBINATION])
