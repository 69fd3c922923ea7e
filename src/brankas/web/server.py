"""The embedded web server: waitress (pure Python, runs on Windows) with WhiteNoise for the
static files shipped inside the package. No broker, no reverse proxy needed on a laptop."""

from __future__ import annotations

from pathlib import Path


def application():  # type: ignore[no-untyped-def]
    from whitenoise import WhiteNoise

    from brankas.web.wsgi import application as django_app

    static = Path(__file__).parent / "static"
    return WhiteNoise(django_app, root=str(static), prefix="static/")


def serve(*, host: str, port: int) -> None:
    import waitress

    waitress.serve(application(), host=host, port=port, threads=8, ident="brankas")
