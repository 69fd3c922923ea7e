"""The offsite tests' S3 server (scripts/s3server.py, named by BRANKAS_TEST_S3_*; skipped
without one, failed when BRANKAS_TEST_S3_REQUIRED is set, as under make test) and the
fault-injecting proxy in front of it (tests/offsite/proxy.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.offsite.proxy import Proxy

S3_VARIABLES = ("BRANKAS_TEST_S3_ENDPOINT", "BRANKAS_TEST_S3_BUCKET", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY")


def s3_server_or_skip() -> dict[str, str]:
    """The server's variables, plus ``kind`` (seaweedfs, radosgw)."""
    missing = [n for n in S3_VARIABLES if not os.environ.get(n)]
    if missing:
        message = (f"S3 tests need {', '.join(missing)} "
                   "(scripts/s3server.py run -- pytest ... starts a throw-away server)")
        if os.environ.get("BRANKAS_TEST_S3_REQUIRED"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if os.environ.get("BRANKAS_TEST_S3_REQUIRED"):
        import boto3  # noqa: F401  (make test installs the offsite extra: a missing one fails)
    else:
        pytest.importorskip("boto3", reason="pip install -e '.[offsite]'")
    return {n: os.environ[n] for n in S3_VARIABLES} | {
        "region": os.environ.get("BRANKAS_TEST_S3_REGION", "us-east-1"),
        "kind": os.environ.get("BRANKAS_TEST_S3_SERVER", "").split(" ")[0]}


@pytest.fixture(scope="session")
def s3_server() -> dict[str, str]:
    return s3_server_or_skip()


@pytest.fixture(scope="module")
def server(s3_server: dict[str, str]) -> dict[str, str]:
    return s3_server


@pytest.fixture(scope="module")
def raw(s3_server: dict[str, str]) -> Any:
    """The bucket as whoever holds the office's S3 credentials sees it (the attacker):
    boto3 itself, path-style, no retries."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=s3_server["BRANKAS_TEST_S3_ENDPOINT"],
                        aws_access_key_id=s3_server["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=s3_server["AWS_SECRET_ACCESS_KEY"],
                        region_name=s3_server["region"],
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def s3_proxy(s3_server: dict[str, str]) -> Iterator[Proxy]:
    proxy = Proxy(s3_server["BRANKAS_TEST_S3_ENDPOINT"]).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faults(s3_proxy: Proxy) -> Iterator[Proxy]:
    """The module's proxy, reset: passes everything, counts from zero."""
    s3_proxy.reset()
    yield s3_proxy
    s3_proxy.reset()


@pytest.fixture
def remote_config(s3_server: dict[str, str]) -> Callable[..., Any]:
    """A RemoteConfig for the test server under a prefix of its own (every test and
    worker shares the one bucket); keywords override (endpoint=proxy.endpoint, ...)."""
    from brankas.core.offsite.remote import RemoteConfig

    prefix = f"t-{uuid.uuid4().hex[:12]}"

    def make(**overrides: Any) -> RemoteConfig:
        values: dict[str, Any] = {"endpoint": s3_server["BRANKAS_TEST_S3_ENDPOINT"],
                                  "bucket": s3_server["BRANKAS_TEST_S3_BUCKET"],
                                  "region": s3_server["region"], "prefix": prefix}
        return RemoteConfig(**(values | overrides))

    return make


def office_on_server(template: Any, settings: Any, tmp_path: Any,
                     server: dict[str, str]) -> Any:
    """A private copy of a module's template office (``office_once``) with a prefix of its
    own on the test server's bucket: ``prefix``, ``bucket``, ``endpoint`` and ``url``
    (``s3://bucket/prefix``) set on it."""
    made = template.copy_for(settings, tmp_path)
    made.prefix = f"t-{uuid.uuid4().hex[:12]}"
    made.bucket = server["BRANKAS_TEST_S3_BUCKET"]
    made.endpoint = server["BRANKAS_TEST_S3_ENDPOINT"]
    made.url = f"s3://{made.bucket}/{made.prefix}"
    return made


@pytest.fixture
def pushed(cli_office: Any, cli_home: Any, run_cli: Any, server: dict[str, str]) -> str:
    """A remote added through the CLI with everything pushed once: the next push sends
    nothing new (the no-change push's tests)."""
    added = run_cli("offsite", "add", "pdn", "--endpoint", server["BRANKAS_TEST_S3_ENDPOINT"],
                    "--bucket", server["BRANKAS_TEST_S3_BUCKET"],
                    "--prefix", f"t-{uuid.uuid4().hex[:12]}", "--retention-days", "1",
                    user="operator")
    assert added.returncode == 0, added.stderr
    first = run_cli("offsite", "push", "pdn", "--json", user="operator")
    assert first.returncode == 0, first.stderr
    return "pdn"
