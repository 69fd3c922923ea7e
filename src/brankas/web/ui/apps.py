from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "brankas.web.ui"
    label = "ui"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from brankas.web.ui.security import logged_in

        user_logged_in.connect(logged_in, dispatch_uid="brankas-password-typed")
