from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "brankas.web.accounts"
    label = "accounts"
