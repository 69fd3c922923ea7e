from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "brankas.web.backup"
    label = "backup"
