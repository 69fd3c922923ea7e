"""Links to the key pages, made so that a page that is not there yet gives no link instead
of an error (the key life-cycle pages come from several changes)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse


def optional_url(name: str, holder: str = "", **query: str) -> str:
    """The URL named ``name``: with ``holder`` as its argument when it takes one, else with
    ``?holder=`` (and ``query``); ``""`` when there is no such page."""
    params = {**({"holder": holder} if holder else {}), **query}
    if holder:
        try:
            url = reverse(name, args=[holder])
        except NoReverseMatch:
            pass
        else:
            return url + (f"?{urlencode(query)}" if query else "")
    try:
        url = reverse(name)
    except NoReverseMatch:
        return ""
    return url + (f"?{urlencode(params)}" if params else "")
