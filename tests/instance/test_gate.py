"""The served home's gate (``brankas.instance.gate``): a recover's swap of the home waits
for the requests inside and holds new ones until the homes have changed places; real
threads, real timing (bounded waits, never a fixed sleep as the proof)."""

from __future__ import annotations

import threading
import time

from django.http import HttpRequest, HttpResponse

from brankas.instance.gate import Gate
from brankas.web.ui.middleware import SwitchGateMiddleware


def test_a_request_waits_at_a_closed_gate_until_the_swap_is_done() -> None:
    gate = Gate()
    swapped = threading.Event()
    seen: list[bool] = []

    def request() -> None:
        with gate.request():
            seen.append(swapped.is_set())

    with gate.closed():
        worker = threading.Thread(target=request)
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and not seen  # held at the gate
        swapped.set()
    worker.join(5)
    assert seen == [True]
    assert gate.inside == 0


def test_the_swap_waits_for_the_requests_inside() -> None:
    gate = Gate()
    inside, leave = threading.Event(), threading.Event()
    order: list[str] = []

    def request() -> None:
        with gate.request():
            inside.set()
            leave.wait(5)
            order.append("request done")

    def swap() -> None:
        with gate.closed():
            order.append("swap")

    first = threading.Thread(target=request)
    first.start()
    assert inside.wait(5)
    swapper = threading.Thread(target=swap)
    swapper.start()
    swapper.join(0.3)
    assert swapper.is_alive() and order == []  # draining
    leave.set()
    swapper.join(5)
    first.join(5)
    assert order == ["request done", "swap"]


def test_a_swap_does_not_wait_for_ever_on_a_request_that_never_ends() -> None:
    gate = Gate()
    stuck, release = threading.Event(), threading.Event()

    def request() -> None:
        with gate.request():
            stuck.set()
            release.wait(10)

    worker = threading.Thread(target=request)
    worker.start()
    assert stuck.wait(5)
    started = time.monotonic()
    with gate.closed(drain=0.2):
        waited = time.monotonic() - started
    release.set()
    worker.join(5)
    assert 0.15 < waited < 5


def test_the_middleware_is_first_and_passes_requests_through_the_served_gate(
        settings: object) -> None:
    from django.conf import settings as django_settings

    from brankas.instance import gate as gate_module

    assert django_settings.MIDDLEWARE[0] == "brankas.web.ui.middleware.SwitchGateMiddleware"
    counts: list[int] = []

    def view(request: HttpRequest) -> HttpResponse:
        counts.append(gate_module.SERVED.inside)
        return HttpResponse("ok")

    before = gate_module.SERVED.inside
    assert SwitchGateMiddleware(view)(HttpRequest()).content == b"ok"
    assert counts == [before + 1] and gate_module.SERVED.inside == before
