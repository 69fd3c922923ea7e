"""bench.search's table: the server process's CPU column (session 22) when the figures
carry it (PostgreSQL on this machine), empty when not (SQLite); no server clock on SQLite."""

from __future__ import annotations

from bench import search


def _result(server: bool) -> dict:  # type: ignore[type-arg]
    figure = {"what": "web", "kind": "common word", "p50": 10.0, "p95": 12.0, "p99": 13.0,
              "cpu_p50": 5.0, "cpu_p95": 6.0}
    if server:
        figure["server_cpu_p50"] = 4.5
    return {"documents": 100, "texts": 75, "database": "postgresql" if server else "sqlite",
            "repeats": 3, "load_average": [0.5], "queries": {
                "common word": {"query": "dinas", "matches": 70}}, "figures": [figure]}


def test_the_table_shows_the_server_cpu_when_measured() -> None:
    with_server = search.table(_result(True)).splitlines()
    without = search.table(_result(False)).splitlines()
    assert "server" in with_server[1] and with_server[-1].split()[-1] == "4.5"
    assert without[-1].split()[-1] == "6.0"  # the client's p95 CPU last


def test_no_server_clock_on_sqlite() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        assert search._server_clock() is None
