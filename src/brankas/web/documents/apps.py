from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "brankas.web.documents"
    label = "documents"

    def ready(self) -> None:
        # The change counters' SQLite triggers made again after a migration that remade
        # their table (web/changes.py): every migrate, whatever the command's other apps.
        from django.db.models.signals import post_migrate

        from brankas.web.changes import retrack

        post_migrate.connect(retrack, sender=self, dispatch_uid="brankas.changes.retrack")
