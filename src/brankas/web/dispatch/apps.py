from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "brankas.web.dispatch"
    label = "dispatch"
