"""Reading a disk's health with ``smartctl --json`` (smartmontools 7.x), and parsing it.

``parse`` works on the JSON smartctl printed (recorded outputs in the tests); ``read``
finds the block device under a folder and runs smartctl with a bounded timeout, retrying
with ``-d sat`` when a USB bridge hides the disk. Nothing here raises: a disk whose health
cannot be read is ``unknown`` with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GOOD, FAILED, UNKNOWN = "good", "failed", "unknown"
STATUSES = (GOOD, FAILED, UNKNOWN)

# The failure-predicting counters, in the order they are named.
COUNTERS = ("reallocated", "pending", "uncorrectable", "crc_errors", "media_errors")
# ATA attribute ids of each counter (the first one present is taken).
ATA_IDS = {
    "reallocated": (5,),  # Reallocated_Sector_Ct
    "pending": (197,),  # Current_Pending_Sector
    "uncorrectable": (198, 187),  # Offline_Uncorrectable, else Reported_Uncorrect
    "crc_errors": (199,),  # UDMA_CRC_Error_Count
}
# smartctl's exit status bits (smartctl(8), "RETURN VALUES").
EXIT_OPEN_FAILED = 1 << 1
EXIT_DISK_FAILING = 1 << 3
EXIT_PREFAIL_AT_THRESHOLD = 1 << 4  # a prefailure attribute at/below its threshold now

# The largest value a reading stores: a count or an hour above it is no reading (the
# database's columns are 32-bit for hours, 16-bit for the temperature, 63-bit for counts).
MAX_COUNT = 2**63 - 1
MAX_HOURS = 2**31 - 1
MAX_TEMPERATURE = 32767

MAX_OUTPUT = 4 * 1024 * 1024  # smartctl -a prints a few tens of KiB; more is not smartctl's


@dataclass(frozen=True)
class Health:
    status: str  # good, failed, unknown
    reason: str = ""  # why unknown, or why failed (English, short; shown as recorded)
    device: str = ""
    device_type: str = ""  # smartctl's type (sat, nvme, usbjmicron, ...)
    protocol: str = ""  # ATA, NVMe, SCSI
    model: str = ""
    serial: str = ""
    power_on_hours: int | None = None
    temperature: int | None = None
    reallocated: int | None = None
    pending: int | None = None
    uncorrectable: int | None = None
    crc_errors: int | None = None
    media_errors: int | None = None
    failing_attributes: tuple[str, ...] = field(default_factory=tuple)  # at/below threshold

    def counters(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in COUNTERS}

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failing_attributes"] = list(self.failing_attributes)
        return out


def unknown(reason: str, device: str = "") -> Health:
    return Health(status=UNKNOWN, reason=reason[:200], device=device)


# Why a reading is unknown or failed, as recorded (English); ``advice.REASON_WORDS`` and
# ``advice.REASON_PREFIXES`` give each in both languages (keyed by these, one home).
R_NOT_OBJECT = "smartctl output is not a JSON object"
R_TOO_LARGE = "smartctl output too large"
R_NOT_JSON = "smartctl output is not JSON"
R_NOT_INSTALLED = "smartctl not installed (Debian: smartmontools)"
R_NO_DEVICE = "no block device found for the folder on this system"
R_FAILED = "SMART overall-health self-assessment: FAILED"
R_NO_STATUS = "no SMART status in smartctl's output"
P_TIMEOUT = "smartctl did not answer within "
P_NOT_RUN = "smartctl could not run: "
P_RECORDED = "recorded smartctl output unreadable: "
P_PREFAIL = "prefailure attributes at or below threshold: "


def _int(value: Any, limit: int = MAX_COUNT) -> int | None:
    """A whole number from smartctl's JSON; anything else (a string, a bool, a float, a
    negative or absurdly large number) is not one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= limit else None


def _printable(text: str) -> str:
    """``text`` without control characters (a terminal escape in a hostile output must not
    reach the CLI's terminal, the audit or the report)."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _text(value: Any, limit: int = 100) -> str:
    return _printable(value[:limit]) if isinstance(value, str) else ""


def _messages(data: Mapping[str, Any]) -> list[str]:
    meta = data.get("smartctl")
    items = meta.get("messages") if isinstance(meta, Mapping) else None
    if not isinstance(items, list):
        return []
    return [_printable(m["string"][:200]) for m in items
            if isinstance(m, Mapping) and isinstance(m.get("string"), str)]


def exit_status(data: Mapping[str, Any]) -> int | None:
    meta = data.get("smartctl")
    return _int(meta.get("exit_status")) if isinstance(meta, Mapping) else None


def needs_sat(data: Mapping[str, Any]) -> bool:
    """smartctl could not pass SMART commands through a USB bridge it does not know:
    ``-d sat`` (SCSI-to-ATA translation) is worth one more try."""
    if isinstance(data.get("smart_status"), Mapping):
        return False
    words = " ".join(_messages(data)).lower()
    return "usb bridge" in words or "specify device type" in words


def _ata(data: Mapping[str, Any]) -> tuple[dict[str, int | None], list[str]]:
    table = data.get("ata_smart_attributes")
    rows = table.get("table") if isinstance(table, Mapping) else None
    by_id: dict[int, Mapping[str, Any]] = {}
    failing = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, Mapping) or _int(row.get("id")) is None:
            continue
        by_id[row["id"]] = row
        flags = row.get("flags")
        prefailure = isinstance(flags, Mapping) and flags.get("prefailure") is True
        if row.get("when_failed") == "now" and prefailure:
            failing.append(_text(row.get("name"), 40) or str(row["id"]))
    counts: dict[str, int | None] = {}
    for name, ids in ATA_IDS.items():
        counts[name] = None
        for attr in ids:
            raw = by_id.get(attr, {}).get("raw")
            if isinstance(raw, Mapping) and _int(raw.get("value")) is not None:
                # Counters keep their count in the low 32 bits; some drives use the rest.
                counts[name] = int(raw["value"]) & 0xFFFFFFFF
                break
    return counts, failing


def _nvme(data: Mapping[str, Any]) -> dict[str, int | None]:
    log = data.get("nvme_smart_health_information_log")
    if not isinstance(log, Mapping):
        return {}
    return {"media_errors": _int(log.get("media_errors"))}


def _scsi(data: Mapping[str, Any]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    if "scsi_grown_defect_list" in data:
        out["reallocated"] = _int(data.get("scsi_grown_defect_list"))
    log = data.get("scsi_error_counter_log")
    if isinstance(log, Mapping):
        total = 0
        seen = False
        for part in ("read", "write", "verify"):
            entry = log.get(part)
            value = (_int(entry.get("total_uncorrected_errors"))
                     if isinstance(entry, Mapping) else None)
            if value is not None:
                total, seen = total + value, True
        if seen:
            out["uncorrectable"] = total
    return out


def parse(data: Any, exit_code: int | None = None) -> Health:
    """The health smartctl's JSON output reports. ``good`` needs the disk's own passed
    self-assessment (``smart_status.passed``); a failed one, smartctl's "disk failing"
    exit bit, or a prefailure attribute at or below its threshold now (bit 4: smartctl
    prints PASSED beside it) is ``failed``; anything else is ``unknown``. ``exit_code``
    is the status smartctl exited with, when it ran here (its bits add to the JSON's)."""
    if not isinstance(data, Mapping):
        return unknown(R_NOT_OBJECT)
    found = data.get("device")
    device: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    name = _text(device.get("name"), 200)
    status_obj = data.get("smart_status")
    passed = status_obj.get("passed") if isinstance(status_obj, Mapping) else None
    bits = exit_status(data) or 0
    if exit_code is not None and 0 <= exit_code <= 0xFF:
        bits |= exit_code
    messages = _messages(data)
    counts: dict[str, int | None] = dict.fromkeys(COUNTERS)
    ata, failing = _ata(data)
    if passed is False or bits & EXIT_DISK_FAILING:
        status, reason = FAILED, R_FAILED
    elif failing or bits & EXIT_PREFAIL_AT_THRESHOLD:
        status = FAILED
        reason = (P_PREFAIL
                  + (", ".join(failing) if failing else "(smartctl exit status bit 4)"))
    elif passed is True:
        status, reason = GOOD, ""
    else:
        status = UNKNOWN
        reason = messages[0] if messages else R_NO_STATUS
    counts.update({k: v for k, v in ata.items() if v is not None})
    counts.update({k: v for k, v in _nvme(data).items() if v is not None})
    counts.update({k: v for k, v in _scsi(data).items() if v is not None})
    hours_obj = data.get("power_on_time")
    temp_obj = data.get("temperature")
    return Health(
        status=status, reason=reason[:200], device=name,
        device_type=_text(device.get("type"), 40), protocol=_text(device.get("protocol"), 20),
        model=_text(data.get("model_name")), serial=_text(data.get("serial_number")),
        power_on_hours=(_int(hours_obj.get("hours"), MAX_HOURS)
                        if isinstance(hours_obj, Mapping) else None),
        temperature=(_int(temp_obj.get("current"), MAX_TEMPERATURE)
                     if isinstance(temp_obj, Mapping) else None),
        failing_attributes=tuple(failing[:10]),
        **counts,
    )


def _load(text: str | bytes) -> Any:
    """smartctl's JSON, or None for output that is not JSON (too deeply nested to read
    among it: Python's parser gives up with a RecursionError, not a ValueError)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def parse_text(text: str | bytes, exit_code: int | None = None) -> Health:
    """``parse`` of smartctl's printed output; output that is not JSON is ``unknown``."""
    if len(text) > MAX_OUTPUT:
        return unknown(R_TOO_LARGE)
    data = _load(text)
    if data is None:
        return unknown(R_NOT_JSON)
    return parse(data, exit_code)


# -- finding the disk and running smartctl -------------------------------------------------

def device_for(folder: Path) -> str | None:
    """The whole-disk block device (``/dev/sdb``, ``/dev/nvme0n1``) that holds ``folder``,
    on Linux through ``/sys/dev/block``; None elsewhere, and for a folder on no block
    device (tmpfs, a network share, overlay)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        st_dev = os.stat(folder).st_dev
    except OSError:
        return None
    major, minor = os.major(st_dev), os.minor(st_dev)
    if major == 0:
        return None
    try:
        real = Path(f"/sys/dev/block/{major}:{minor}").resolve(strict=True)
    except OSError:
        return None
    name = real.parent.name if (real / "partition").exists() else real.name
    device = Path("/dev") / name
    return str(device) if device.exists() else None


Runner = Callable[[list[str], float], tuple[int, bytes]]


def run_smartctl(argv: list[str], timeout: float) -> tuple[int, bytes]:
    """Run smartctl; its exit status and standard output (standard error is dropped).
    Memory is bounded as well as time: output past ``MAX_OUTPUT`` is not kept, and a
    program still printing then is stopped (its output is then too large: unknown)."""
    with tempfile.TemporaryFile() as out:
        # A file, not a pipe: what the program prints goes to disk, never into memory;
        # only its first MAX_OUTPUT + 1 bytes are read back.
        with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,  # noqa: S603
                              stderr=subprocess.DEVNULL) as proc:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    code = proc.wait(timeout=min(0.05, max(deadline - time.monotonic(), 0)))
                    break
                except subprocess.TimeoutExpired:
                    if os.fstat(out.fileno()).st_size > MAX_OUTPUT:
                        proc.kill()
                        proc.wait()
                        code = -1
                        break
                    if time.monotonic() >= deadline:
                        proc.kill()
                        proc.wait()
                        raise
        out.seek(0)
        return code, out.read(MAX_OUTPUT + 1)


def read_device(device: str, *, timeout: float, smartctl: str | None = None,
                runner: Runner = run_smartctl) -> Health:
    """The health of ``device`` as smartctl reads it, never raising: retried once with
    ``-d sat`` when a USB bridge is in the way."""
    exe = smartctl or shutil.which("smartctl")
    if exe is None:
        return unknown(R_NOT_INSTALLED, device)
    health = Health(status=UNKNOWN)
    for extra in ([], ["-d", "sat"]):
        try:
            code, out = runner([exe, "--json", "-a", *extra, device], timeout)
        except subprocess.TimeoutExpired:
            return unknown(f"{P_TIMEOUT}{timeout:g} s", device)
        except OSError as exc:
            return unknown(f"{P_NOT_RUN}{exc.strerror or exc}", device)
        if len(out) > MAX_OUTPUT:
            return unknown(R_TOO_LARGE, device)
        data = _load(out)
        if not isinstance(data, Mapping):
            return unknown(R_NOT_JSON, device)
        health = parse(data, code)
        if extra or not needs_sat(data):
            break
    if not health.device:
        health = Health(**{**health.as_dict(), "device": device,
                           "failing_attributes": health.failing_attributes})
    return health


def read(folder: Path, *, timeout: float, recorded: Path | None = None,
         runner: Runner = run_smartctl) -> Health:
    """The health of the disk under ``folder``. ``recorded`` names a file of smartctl's
    JSON output to use instead (``BRANKAS_SMART_JSON``: an office whose disks' health is
    read by another tool, and the tests)."""
    if recorded is not None:
        try:
            with Path(recorded).open("rb") as fh:  # never more than the bound in memory
                text = fh.read(MAX_OUTPUT + 1)
        except OSError as exc:
            return unknown(f"{P_RECORDED}{exc.strerror or exc}")
        return parse_text(text)
    device = device_for(folder)
    if device is None:
        return unknown(R_NO_DEVICE)
    return read_device(device, timeout=timeout, runner=runner)
