from django.apps import AppConfig


def _check_backup(medium_id: str) -> None:
    from brankas.web.custody.services import custody_check_backup

    custody_check_backup(medium_id)


def _first_seen(**kwargs: object) -> None:
    from brankas.web.custody.services import custody_first_seen

    custody_first_seen(**kwargs)  # type: ignore[arg-type]


class CustodyConfig(AppConfig):
    name = "brankas.web.custody"
    label = "custody"

    def ready(self) -> None:
        # Custody depends on backup, not the other way round: a backup asks custody
        # through this hook (``backup.custodyhook``). The services are imported when a
        # backup first asks, not when Django starts (CLI start-up, issue 15).
        from brankas.web.backup.custodyhook import CustodyHook, register

        register(CustodyHook(check_backup=_check_backup, first_seen=_first_seen))
