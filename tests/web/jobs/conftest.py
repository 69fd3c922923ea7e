"""The pages' fixtures (tests/web/ui/conftest.py): a signed-in client, the jobs' worker."""

from tests.web.ui.conftest import no_job_left_running, signed_in  # noqa: F401
