from django.apps import AppConfig


class OffsiteConfig(AppConfig):
    name = "brankas.web.offsite"
    label = "offsite"
