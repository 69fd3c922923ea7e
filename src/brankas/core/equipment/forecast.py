"""How many more runs fit on a disk, and which counters rose between two readings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from brankas.core.equipment.smart import COUNTERS

RECENT_RUNS = 5  # the growth rate is the mean of this many latest runs


def runs_left(free_bytes: int | None, recent_growth: Sequence[int]) -> int | None:
    """Free space over the mean growth of the recent runs (bytes each added), rounded
    down; None when either is unknown or nothing grew."""
    grown = [g for g in recent_growth[:RECENT_RUNS] if g > 0]
    if free_bytes is None or not grown:
        return None
    mean = sum(grown) / len(grown)
    return int(free_bytes // mean)


def counters_rose(before: Mapping[str, int | None],
                  after: Mapping[str, int | None]) -> list[tuple[str, int, int]]:
    """The failure-predicting counters higher in ``after`` than in ``before``, each with
    both values (a counter unknown in either reading is not compared)."""
    rose = []
    for name in COUNTERS:
        old, new = before.get(name), after.get(name)
        if old is not None and new is not None and new > old:
            rose.append((name, old, new))
    return rose
