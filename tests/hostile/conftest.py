from tests.web.conftest import signed_in  # noqa: F401  (the web client fixture)
