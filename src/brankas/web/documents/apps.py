from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "brankas.web.documents"
    label = "documents"
