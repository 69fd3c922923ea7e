from typing import Any

from django.apps import AppConfig


def _logged_in(**kwargs: Any) -> None:
    # The web's session hardening, imported at the first sign-in rather than when Django
    # starts: a command-line call does not pay for the web's imports (issue 15).
    from brankas.web.ui.security import logged_in

    logged_in(**kwargs)


def _logged_out(**kwargs: Any) -> None:
    # Sealed fields (issue 16): the key unlocked in this session is forgotten at sign-out.
    from brankas.web.ui.documents.sealed_views import lock_at_sign_out

    lock_at_sign_out(**kwargs)


class UiConfig(AppConfig):
    name = "brankas.web.ui"
    label = "ui"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_in.connect(_logged_in, dispatch_uid="brankas-password-typed")
        from brankas.web.changes import remember_per_request

        remember_per_request()
        user_logged_out.connect(_logged_out, dispatch_uid="brankas-sealed-lock")
