from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "brankas.web.audit"
    label = "audit"
