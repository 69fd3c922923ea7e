from django.apps import AppConfig


def _after_use(**kwargs: object) -> None:
    from brankas.web.equipment.health import health_record_after_use

    health_record_after_use(**kwargs)  # type: ignore[arg-type]


class EquipmentConfig(AppConfig):
    name = "brankas.web.equipment"
    label = "equipment"

    def ready(self) -> None:
        # Equipment depends on backup, not the other way round: a backup, a verification
        # and a drill tell it through this hook (``backup.healthhook``).
        from brankas.web.backup.healthhook import register

        register(_after_use)
