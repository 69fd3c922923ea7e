from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "brankas.web.custody"
    label = "custody"
