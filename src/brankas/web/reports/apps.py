from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "brankas.web.reports"
    label = "reports"
