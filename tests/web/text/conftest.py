from tests.web.ui.conftest import signed_in  # noqa: F401 (the register's page, signed in)
