from typing import Any

from django.apps import AppConfig


class TextConfig(AppConfig):
    name = "brankas.web.text"
    label = "text"

    def ready(self) -> None:
        # After every migrate: a later migration that remakes the text table on SQLite
        # drops the search index's triggers (web/text/fts.py): made again, index rebuilt.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_repair, sender=self, dispatch_uid="brankas.text.fts_repair")


def _repair(using: str = "default", **kwargs: Any) -> None:
    from brankas.web.text.fts import repair

    repair(using)
