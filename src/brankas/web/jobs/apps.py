from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "brankas.web.jobs"
    label = "jobs"
