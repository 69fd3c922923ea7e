from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "brankas.web.ui"
    label = "ui"
