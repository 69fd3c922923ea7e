"""Reports and their sign-off chain (SOP steps 8-10): periods, states, standard times.

Vocabulary:

- *period*: a month ``YYYY-MM``, a quarter ``YYYY-Qn`` or a year ``YYYY``; a report covers
  one, and its executive summary compares it with the period before.
- *kind*: ``backup`` (Laporan Hasil Back Up Data) or ``messages`` (Laporan Hasil
  Penerimaan dan Pengiriman Berita).
- *state*, *step*: where a report is in its sign-off chain, and what moves it on
  (``brankas.core.chains.report``).
- *mutu baku*: the SOP's standard time of each step, against which the times measured
  from Brankas's own timestamps are reported.

Plain Python, no Django.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from brankas.core.errors import InvalidInput
from brankas.core.printing.dates import MONTHS_ID


class Kind(StrEnum):
    BACKUP = "backup"
    MESSAGES = "messages"


KIND_TITLES = {
    Kind.BACKUP: "LAPORAN HASIL BACK UP DATA",
    Kind.MESSAGES: "LAPORAN HASIL PENERIMAAN DAN PENGIRIMAN BERITA",
}


# -- periods ---------------------------------------------------------------------------

# the month names as papers print them (``core.printing.dates``)


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: ``start`` inclusive, ``end`` exclusive."""

    text: str
    start: date
    end: date

    @property
    def label(self) -> str:
        """As printed on the report, in Bahasa Indonesia."""
        if re.fullmatch(r"\d{4}-\d{2}", self.text):
            return f"{MONTHS_ID[self.start.month - 1]} {self.start.year}"
        if "Q" in self.text:
            return f"Triwulan {self.text[-1]} Tahun {self.start.year}"
        return f"Tahun {self.start.year}"

    def previous(self) -> Period:
        if re.fullmatch(r"\d{4}-\d{2}", self.text):
            y, m = (self.start.year, self.start.month - 1) if self.start.month > 1 \
                else (self.start.year - 1, 12)
            return parse_period(f"{y:04d}-{m:02d}")
        if "Q" in self.text:
            q = (self.start.month - 1) // 3 + 1
            y, q = (self.start.year, q - 1) if q > 1 else (self.start.year - 1, 4)
            return parse_period(f"{y:04d}-Q{q}")
        return parse_period(f"{self.start.year - 1:04d}")


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; anything else is a clear refusal."""
    value = (text or "").strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(value, start, _add_months(start, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
            start = date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
            return Period(value, start, _add_months(start, 3))
        if m := re.fullmatch(r"(\d{4})", value):
            start = date(int(m[1]), 1, 1)
            return Period(value, start, date(start.year + 1, 1, 1))
    except ValueError:
        pass
    raise InvalidInput("period_invalid", value=text)


# -- mutu baku -------------------------------------------------------------------------

@dataclass(frozen=True)
class SopStep:
    number: int
    name: str
    standard_minutes: int
    measured_by: str  # which timestamps, or "" when Brankas has none for it


SOP_STEPS: tuple[SopStep, ...] = (
    SopStep(1, "Alih media naskah dinas (pindai, formulir input)", 10,
            "formulir pendaftaran dibuka - disimpan"),
    SopStep(2, "Membuat folder biasa/dikecualikan", 10, ""),
    SopStep(3, "Memeriksa jenis data (rahasia dienkripsi)", 30, ""),
    SopStep(4, "Mengenkripsi data naskah dikecualikan", 30, ""),
    SopStep(5, "Menyimpan data ke foldernya", 10, ""),
    SopStep(6, "Menyalin data ke hard disk eksternal", 10, "back up mulai - selesai"),
    SopStep(7, "Menyimpan hard disk ke brankas", 10,
            "back up selesai - disk disimpan ke brankas"),
    SopStep(8, "Mencatat daftar kontrol, membuat laporan", 20, "laporan dibuat - diajukan"),
    SopStep(9, "Kasi memeriksa laporan, ringkasan eksekutif", 20,
            "diajukan - diteruskan ke Kabid"),
    SopStep(10, "Kabid mengesahkan, meneruskan ke Kadis", 15, "diteruskan - disahkan"),
)
# Steps 2-5 are done by Brankas itself inside the registration (step 1's save): folders,
# classification check, encryption and filing have no separate human time to measure.
AUTOMATIC_STEPS = frozenset({2, 3, 4, 5})


@dataclass(frozen=True)
class StepTimes:
    step: SopStep
    count: int
    median_minutes: float | None
    worst_minutes: float | None
    over: int  # how many took longer than the standard

    @property
    def automatic(self) -> bool:
        return self.step.number in AUTOMATIC_STEPS


def step_times(step: SopStep, seconds: Iterable[float]) -> StepTimes:
    values = sorted(max(0.0, s) / 60 for s in seconds)
    if not values:
        return StepTimes(step, 0, None, None, 0)
    over = sum(1 for v in values if v > step.standard_minutes)
    return StepTimes(step, len(values), round(statistics.median(values), 1),
                     round(values[-1], 1), over)


def mutu_baku(durations: Mapping[int, Sequence[float]]) -> list[StepTimes]:
    """Per SOP step: count, median and worst minutes, and how many went over the standard."""
    return [step_times(s, durations.get(s.number, ())) for s in SOP_STEPS]


def change(current: int, previous: int) -> str:
    """'+12 (+8,5%)', '-3 (-10,0%)', '0', or '+5 (baru)' when there was nothing before
    (the Indonesian decimal comma: the paper is in Bahasa Indonesia)."""
    diff = current - previous
    if previous == 0:
        return f"{diff:+d} (baru)" if diff else "0"
    percent = f"{diff / previous * 100:+.1f}".replace(".", ",")
    return f"{diff:+d} ({percent}%)" if diff else "0"
