"""Template tags for the key pages."""

from __future__ import annotations

from django import template

from brankas.web.ui.keys.links import optional_url as _optional_url

register = template.Library()


@register.simple_tag
def optional_url(name: str, holder: str = "") -> str:
    """``{% optional_url 'ui:key_check' key.holder.username as url %}``: the page's URL, or
    ``""`` while it does not exist (``brankas.web.ui.keys.links``)."""
    return _optional_url(name, holder)
