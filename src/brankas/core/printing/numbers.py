"""Numbers as the office reads them, on papers and pages alike: one decimal with the
Indonesian decimal comma (a point in English), sizes 1024-based as file managers show them."""

from __future__ import annotations

UNITS = ("B", "KB", "MB", "GB", "TB")


def decimal(value: float, lang: str = "id") -> str:
    """One decimal: ``8,5`` (id), ``8.5`` (en)."""
    text = f"{value:.1f}"
    return text if lang == "en" else text.replace(".", ",")


def size(value: float, lang: str = "id") -> str:
    """``0 B``, ``512 B``, ``1,5 KB`` (id) / ``1.5 KB`` (en): one decimal above a kilobyte."""
    amount = float(value)
    unit = 0
    while abs(amount) >= 1024 and unit < len(UNITS) - 1:
        amount /= 1024
        unit += 1
    if unit == 0:
        return f"{int(amount)} B"
    return f"{decimal(amount, lang)}\u00a0{UNITS[unit]}"
