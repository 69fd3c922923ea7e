from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "brankas.web.keys"
    label = "keys"
