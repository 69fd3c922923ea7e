from tests.web.ui.conftest import signed_in  # noqa: F401  (the web client fixture)
