from django.apps import AppConfig


class TextConfig(AppConfig):
    name = "brankas.web.text"
    label = "text"
