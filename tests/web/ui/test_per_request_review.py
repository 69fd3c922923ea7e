"""Review (s24) of ``changes.per_request`` (17f617f): what one GET keeps must reach no
other request, user or role, nor code run on the thread after it, whatever way the request
ends (a streaming body, a HEAD, an error, a redirect after a POST)."""

from __future__ import annotations

from typing import Any


def _office_name(name: str) -> None:
    from brankas.web.accounts.models import Office

    Office.objects.update(name=name)


def test_a_stream_never_read_keeps_nothing_for_what_runs_after_it(signed_in, office) -> None:  # type: ignore[no-untyped-def]
    """A streaming response whose body is never read (its close never comes, so Django's
    request_finished never fires): the code run after it on this thread must not be
    answered from that request's figures."""
    from brankas.web import changes
    from brankas.web.accounts.selectors import office_get

    client = signed_in("kabid")
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response.streaming
    # the body is not read: the request never ends
    first = office_get()
    _office_name("Dinas Sesudahnya")
    assert office_get().name == "Dinas Sesudahnya"  # type: ignore[union-attr]
    assert first is not office_get()
    assert changes.per_request("review", lambda: 1) == 1
    assert changes.per_request("review", lambda: 2) == 2


def test_each_request_reads_again_whatever_the_one_before(signed_in, office, client) -> None:  # type: ignore[no-untyped-def]
    """A GET, a HEAD, an error page, a POST that redirects, by users of different roles
    one after the other on this one thread: each sees the office as it is when it runs."""
    assert "Dinas Satu" not in signed_in("kasi").get("/").content.decode()
    _office_name("Dinas Satu")
    assert signed_in("kasi").head("/").status_code == 200
    _office_name("Dinas Dua")
    assert "Dinas Dua" in signed_in("operator").get("/").content.decode()
    assert signed_in("operator").get("/no-such-page/").status_code == 404
    _office_name("Dinas Tiga")
    admin = signed_in("admin")
    assert "Dinas Tiga" in admin.get("/").content.decode()
    page = admin.get("/office/")
    assert page.status_code == 200
    form: dict[str, Any] = {k: v for k, v in page.context["form"].initial.items()
                            if v is not None and k != "logo"}
    form["name"] = "Dinas Empat"
    posted = admin.post("/office/", form)
    assert posted.status_code in (200, 302), posted.status_code
    assert "Dinas Empat" in signed_in("kasi").get("/").content.decode()
