from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "brankas.web.custody"
    label = "custody"

    def ready(self) -> None:
        # Custody depends on backup, not the other way round: a backup asks custody
        # through this hook (``backup.custodyhook``).
        from brankas.web.backup.custodyhook import CustodyHook, register
        from brankas.web.custody.services import custody_check_backup, custody_first_seen

        register(CustodyHook(check_backup=custody_check_backup, first_seen=custody_first_seen))
