"""The embedded web server: waitress (pure Python, runs on Windows) with WhiteNoise for the
static files shipped inside the package, and the jobs' worker in a thread beside it. No
broker, no reverse proxy needed on a laptop."""

from __future__ import annotations

from pathlib import Path


def application():  # type: ignore[no-untyped-def]
    from whitenoise import WhiteNoise

    from brankas.web.wsgi import application as django_app

    static = Path(__file__).parent / "static"
    return WhiteNoise(django_app, root=str(static), prefix="static/")


def serve(*, host: str, port: int, worker: bool = True) -> None:
    """Serve until stopped; with ``worker`` (the default, ``make run``), the jobs' worker runs
    in a thread beside the server (``brankas.web.jobs.worker``), so one command is enough.
    Jobs that need a passphrase run in this process whatever ``worker`` says: their secret
    never leaves its memory."""
    import waitress
    from django.conf import settings

    from brankas.core import config
    from brankas.web.jobs.services import jobs_interrupt_stale

    jobs_interrupt_stale()  # a job this computer's dead process left running: interrupted
    embedded = None
    if worker:
        from brankas.web.jobs.worker import EmbeddedWorker

        embedded = EmbeddedWorker().start()

    # waitress keeps only 512 KiB of a request body in memory and spools the rest to a
    # temporary file: that would put an exempted upload's plaintext on disk. Keep whole
    # bodies (up to the upload limit) in memory, and refuse larger ones before reading them.
    limit = settings.BRANKAS.max_upload_mb * 1024 * 1024 + 1024 * 1024
    try:
        waitress.serve(
            application(),
            host=host,
            port=port,
            # Requests served at once (BRANKAS_SERVE_THREADS; docs/server.md, "Tuning").
            threads=config.positive_int("BRANKAS_SERVE_THREADS", 8),
            ident="brankas",
            inbuf_overflow=limit,
            outbuf_overflow=limit,
            max_request_body_size=limit,
        )
    finally:
        if embedded is not None:
            embedded.stop(timeout=5)
