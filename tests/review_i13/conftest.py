"""Fixtures of other test folders the review's tests use."""

from tests.web.ui.conftest import signed_in  # noqa: F401
