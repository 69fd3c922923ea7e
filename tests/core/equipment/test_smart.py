"""Parsing recorded ``smartctl --json`` outputs (tests/fixtures/smartctl, README there),
the ``-d sat`` retry, the bounded call, and one real smartctl call."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brankas.core.equipment import advice, forecast, smart
from brankas.core.terms import Condition, EquipmentKind, parse_condition, parse_equipment_kind

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "smartctl"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((RECORDED / name).read_text())


def test_a_healthy_sata_disk_is_good_with_its_counters() -> None:
    h = smart.parse(load("sata-healthy.json"))
    assert h.status == smart.GOOD and h.reason == ""
    assert (h.device, h.device_type, h.protocol) == ("/dev/sdb", "sat", "ATA")
    assert h.model == "WDC WD20SPZX-22UA7T0" and h.serial == "WD-WXB2A91KLP37"
    assert (h.power_on_hours, h.temperature) == (1873, 32)
    assert h.counters() == {"reallocated": 0, "pending": 0, "uncorrectable": 0,
                            "crc_errors": 0, "media_errors": None}
    assert h.failing_attributes == ()


def test_a_failing_disk_is_failed_and_names_the_attribute_at_its_threshold() -> None:
    h = smart.parse(load("sata-failing.json"))
    assert h.status == smart.FAILED and "FAILED" in h.reason
    assert (h.reallocated, h.pending, h.uncorrectable, h.crc_errors) == (1975, 8, 8, 2)
    assert h.failing_attributes == ("Reallocated_Sector_Ct",)
    assert (h.power_on_hours, h.temperature) == (65592, 25)  # not the packed raw 194


def test_the_disk_failing_exit_bit_alone_is_failed() -> None:
    data = load("sata-healthy.json")
    del data["smart_status"]
    data["smartctl"]["exit_status"] = smart.EXIT_DISK_FAILING
    assert smart.parse(data).status == smart.FAILED


def test_an_nvme_disk_reports_media_errors_not_ata_counters() -> None:
    h = smart.parse(load("nvme-healthy.json"))
    assert h.status == smart.GOOD and h.protocol == "NVMe"
    assert h.media_errors == 0 and h.reallocated is None and h.pending is None
    assert (h.power_on_hours, h.temperature) == (4187, 38)


def test_an_unknown_usb_bridge_is_unknown_never_good() -> None:
    data = load("usb-bridge-unknown.json")
    h = smart.parse(data)
    assert h.status == smart.UNKNOWN
    assert "Unknown USB bridge" in h.reason
    assert smart.needs_sat(data)
    assert not smart.needs_sat(load("sata-healthy.json"))


@pytest.mark.parametrize("data", [None, [], "text", {}, {"smart_status": {"passed": "yes"}},
                                  {"smart_status": {"passed": 1}},
                                  {"smartctl": {"exit_status": "8"}}])
def test_anything_without_a_clear_verdict_is_unknown(data: object) -> None:
    assert smart.parse(data).status == smart.UNKNOWN


def test_hostile_values_are_not_counts() -> None:
    data = load("sata-healthy.json")
    for row in data["ata_smart_attributes"]["table"]:
        if row["id"] == 5:
            row["raw"]["value"] = "9999"
        if row["id"] == 197:
            row["raw"]["value"] = -4
    data["power_on_time"]["hours"] = True
    h = smart.parse(data)
    assert h.reallocated is None and h.pending is None and h.power_on_hours is None
    assert smart.parse_text(b"\xff not json").status == smart.UNKNOWN
    assert smart.parse_text(b" " * (smart.MAX_OUTPUT + 1)).reason == "smartctl output too large"


class Recorded:
    """Answers smartctl's calls with recorded outputs (by the presence of ``-d sat``)."""

    def __init__(self, first: str, sat: str | None = None) -> None:
        self.first, self.sat, self.calls = first, sat, []  # type: ignore[var-annotated]

    def __call__(self, argv: list[str], timeout: float) -> tuple[int, bytes]:
        self.calls.append(argv)
        name = self.sat if "sat" in argv else self.first
        data = (RECORDED / str(name)).read_bytes()
        return json.loads(data)["smartctl"]["exit_status"], data


def test_a_usb_bridge_is_read_again_with_d_sat() -> None:
    runner = Recorded("usb-bridge-unknown.json", "usb-bridge-sat.json")
    h = smart.read_device("/dev/sdd", timeout=5, smartctl="smartctl", runner=runner)
    assert h.status == smart.GOOD and h.device == "/dev/sdd" and h.device_type == "sat"
    assert runner.calls == [["smartctl", "--json", "-a", "/dev/sdd"],
                            ["smartctl", "--json", "-a", "-d", "sat", "/dev/sdd"]]


def test_a_bridge_that_passes_nothing_even_with_d_sat_stays_unknown() -> None:
    runner = Recorded("usb-bridge-unknown.json", "usb-bridge-unknown.json")
    h = smart.read_device("/dev/sdd", timeout=5, smartctl="smartctl", runner=runner)
    assert h.status == smart.UNKNOWN and h.device == "/dev/sdd" and len(runner.calls) == 2


def test_a_disk_read_directly_is_not_read_twice() -> None:
    runner = Recorded("sata-failing.json")
    assert smart.read_device("/dev/sdc", timeout=5, smartctl="x", runner=runner).status \
        == smart.FAILED
    assert len(runner.calls) == 1


def test_a_timeout_a_missing_program_and_garbage_are_unknown(tmp_path: Path) -> None:
    def slow(argv: list[str], timeout: float) -> tuple[int, bytes]:
        raise subprocess.TimeoutExpired(argv, timeout)

    def missing(argv: list[str], timeout: float) -> tuple[int, bytes]:
        raise FileNotFoundError(2, "No such file or directory")

    assert "within 3 s" in smart.read_device("/dev/sdb", timeout=3, smartctl="x",
                                             runner=slow).reason
    assert smart.read_device("/dev/sdb", timeout=3, smartctl="x",
                             runner=missing).status == smart.UNKNOWN
    assert smart.read_device("/dev/sdb", timeout=3, smartctl="x",
                             runner=lambda a, t: (0, b"<html>")).status == smart.UNKNOWN


def test_the_real_timeout_stops_a_hanging_program(tmp_path: Path) -> None:
    """The bound is smartctl's own subprocess timeout: a program that never answers is
    stopped and the disk is unknown."""
    if os.name != "posix":
        pytest.skip("a script as a program needs POSIX")
    hang = tmp_path / "smartctl"
    hang.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    hang.chmod(0o755)
    h = smart.read_device("/dev/null", timeout=0.5, smartctl=str(hang))
    assert h.status == smart.UNKNOWN and "did not answer" in h.reason


def test_a_recorded_output_is_read_instead_of_smartctl(tmp_path: Path) -> None:
    assert smart.read(tmp_path, timeout=1, recorded=RECORDED / "sata-failing.json").status \
        == smart.FAILED
    assert smart.read(tmp_path, timeout=1, recorded=tmp_path / "absent.json").status \
        == smart.UNKNOWN


def test_a_folder_on_no_block_device_is_unknown() -> None:
    if not sys.platform.startswith("linux") or not Path("/proc/self").is_dir():
        pytest.skip("/proc is Linux's")
    assert smart.device_for(Path("/proc/self")) is None  # procfs: device major 0
    assert smart.read(Path("/proc/self"), timeout=1).status == smart.UNKNOWN


@pytest.mark.skipif(shutil.which("smartctl") is None,
                    reason="smartctl is not installed (Debian: smartmontools; make test "
                           "installs it through scripts/system-deps.sh)")
def test_one_real_smartctl_call_on_a_loop_device_or_a_plain_folder(tmp_path: Path) -> None:
    """The real program on a device that has no SMART: a loop device when one exists,
    else the device under a plain folder (a virtual machine's disk). It must not come
    out good unless smartctl itself said the self-assessment passed."""
    loops = sorted(Path("/dev").glob("loop[0-9]*")) if sys.platform.startswith("linux") else []
    device = str(loops[0]) if loops else smart.device_for(tmp_path)
    if device is None:
        pytest.skip("no block device under the temporary folder on this system")
    h = smart.read_device(device, timeout=20)
    raw = subprocess.run(["smartctl", "--json", "-a", device], capture_output=True,
                         check=False).stdout
    said_passed = (json.loads(raw).get("smart_status") or {}).get("passed") is True
    if loops:
        assert h.status == smart.UNKNOWN, h
        assert h.reason  # smartctl's own message ("Unable to detect device type", ...)
    else:
        assert h.status != smart.GOOD or said_passed


def test_runs_left_at_the_recent_growth() -> None:
    assert forecast.runs_left(1000, [100, 100, 300]) == 6  # mean 166.7
    assert forecast.runs_left(1000, [0, 0]) is None
    assert forecast.runs_left(None, [10]) is None
    assert forecast.runs_left(50, [100]) == 0
    # only the recent runs count
    assert forecast.runs_left(1000, [100] * 5 + [10_000]) == 10


def test_counters_that_rose_are_named_with_both_values() -> None:
    before = smart.parse(load("sata-healthy.json")).counters()
    after = smart.parse(load("sata-reallocating.json")).counters()
    rose = forecast.counters_rose(before, after)
    assert rose == [("reallocated", 0, 8), ("pending", 0, 3), ("uncorrectable", 0, 1)]
    assert forecast.counters_rose(after, after) == []
    assert forecast.counters_rose({}, after) == []
    assert advice.which_text(rose, "en") == (
        "reallocated sectors 0 → 8, pending sectors 0 → 3, uncorrectable sectors 0 → 1")
    assert "sektor tertunda 0 → 3" in advice.which_text(rose, "id")


def test_every_warning_has_both_languages_and_names_what_to_do() -> None:
    params = {"item": "Pemindai A", "ref": "3", "due": "2026-01-01", "days": 4,
              "condition": "Rusak berat", "disk": "DISK-01", "when": "2026-12-05 10:00",
              "rose": [["pending", 0, 3]], "runs": 2, "free": "1.0 GiB", "months": 70,
              "since": "2020-01-01", "limit": 60}
    for code in advice.WARNINGS:
        ind, eng = advice.text(code, params, "id"), advice.text(code, params, "en")
        assert ind != eng
        assert "brankas " in ind and "brankas " in eng  # the command to use


def test_terms_parse_the_official_values() -> None:
    assert parse_equipment_kind("Komputer / laptop") is EquipmentKind.COMPUTER
    assert parse_equipment_kind("hard disk") is EquipmentKind.EXTERNAL_DISK
    assert parse_condition("Rusak ringan") is Condition.LIGHTLY_DAMAGED
    with pytest.raises(ValueError):
        parse_condition("bagus")


# -- outside review (s17 rev): hostile or odd smartctl output --------------------------------

def test_a_prefailure_attribute_failing_now_is_failed_though_smartctl_says_passed() -> None:
    """smartctl(8) exit bit 4: a prefailure attribute at or below its threshold now, with
    the self-assessment still PASSED: imminent failure, never "good"."""
    data = load("sata-healthy.json")
    for row in data["ata_smart_attributes"]["table"]:
        if row["id"] == 5:
            row["value"], row["when_failed"] = 100, "now"
    data["smartctl"]["exit_status"] = smart.EXIT_PREFAIL_AT_THRESHOLD
    h = smart.parse(data)
    assert data["smart_status"]["passed"] is True
    assert h.status == smart.FAILED and "Reallocated_Sector_Ct" in h.reason
    # The bit alone (as the process's exit status, the JSON's copy absent) says the same.
    data = load("sata-healthy.json")
    del data["smartctl"]["exit_status"]
    assert smart.parse(data).status == smart.GOOD
    assert smart.parse(data, exit_code=smart.EXIT_PREFAIL_AT_THRESHOLD).status == smart.FAILED
    assert smart.parse(data, exit_code=smart.EXIT_DISK_FAILING).status == smart.FAILED
    # An old-age attribute past its threshold is wear, not a prefailure: still good.
    data = load("sata-healthy.json")
    for row in data["ata_smart_attributes"]["table"]:
        if row["id"] == 4:
            row["when_failed"] = "now"
    assert smart.parse(data).status == smart.GOOD


def test_the_exit_status_smartctl_returned_counts_when_run() -> None:
    data = load("sata-healthy.json")
    data["smartctl"]["exit_status"] = 0
    text = json.dumps(data).encode()
    h = smart.read_device("/dev/sdb", timeout=5, smartctl="x",
                          runner=lambda a, t: (smart.EXIT_DISK_FAILING, text))
    assert h.status == smart.FAILED


def test_deeply_nested_json_is_unknown_not_an_exception(tmp_path: Path) -> None:
    nested = b"[" * 200_000 + b"]" * 200_000  # under MAX_OUTPUT, past Python's recursion
    assert len(nested) < smart.MAX_OUTPUT
    assert smart.parse_text(nested).status == smart.UNKNOWN
    recorded = tmp_path / "nested.json"
    recorded.write_bytes(nested)
    assert smart.read(tmp_path, timeout=1, recorded=recorded).status == smart.UNKNOWN
    assert smart.read_device("/dev/sdb", timeout=1, smartctl="x",
                             runner=lambda a, t: (0, nested)).status == smart.UNKNOWN


def test_absurd_numbers_are_not_readings() -> None:
    """Numbers no disk reports (beyond what the reading's columns hold) are no reading:
    stored they would overflow the database and lose the whole reading."""
    data = load("sata-healthy.json")
    data["power_on_time"]["hours"] = 2**40
    data["temperature"]["current"] = 10**6
    for row in data["ata_smart_attributes"]["table"]:
        if row["id"] == 199:
            row["raw"]["value"] = 10**30  # the low 32 bits would be taken: keep it absurd
    h = smart.parse(data)
    assert (h.power_on_hours, h.temperature) == (None, None)
    nvme = load("nvme-healthy.json")
    nvme["nvme_smart_health_information_log"]["media_errors"] = 10**30
    assert smart.parse(nvme).media_errors is None


def test_a_smartctl_that_floods_its_output_is_stopped_and_unknown(tmp_path: Path) -> None:
    """Memory is bounded, not only time: a program that prints without end is stopped
    once it has printed more than smartctl ever does, well before the timeout; the
    output kept is never more than the bound. Proven in a child process whose address
    space is capped below what the flood would take in memory."""
    if os.name != "posix":
        pytest.skip("a script as a program and RLIMIT_AS need POSIX")
    flood = tmp_path / "smartctl"
    flood.write_text("#!/bin/sh\nexec yes '{\"smartctl\": {\"exit_status\": 0}}'\n")
    flood.chmod(0o755)
    child = (
        "import resource, sys\n"
        "from brankas.core.equipment import smart\n"
        "resource.setrlimit(resource.RLIMIT_AS, (700 * 2**20, 700 * 2**20))\n"
        f"h = smart.read_device('/dev/null', timeout=30, smartctl={str(flood)!r})\n"
        "print(h.status, h.reason)\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "unknown smartctl output too large"


def test_control_characters_from_smartctl_never_reach_a_terminal() -> None:
    """Review: a hostile output's model, serial and message carried terminal escapes into
    ``brankas equipment show`` (and the audit)."""
    data = load("usb-bridge-unknown.json")
    data["model_name"] = "Disk\x1b[2J\x1b]0;pwned\x07"
    data["serial_number"] = "SN\r\n1"
    data["smartctl"]["messages"][0]["string"] = "\x1b[31mUnknown USB bridge\x1b[0m"
    h = smart.parse(data)
    for text in (h.model, h.serial, h.reason):
        assert text and all(ch.isprintable() for ch in text), text
    assert "Unknown USB bridge" in h.reason


def test_a_hostile_label_in_a_suggested_command_is_quoted() -> None:
    """Review: a disk's label comes from the disk (hostile input) and any printable text
    may be one; the warnings show commands to paste: the label is one shell word there,
    never a second command."""
    import shlex

    label = "DISK-1; touch /tmp/pwned $(id)"
    params = {"item": "Hard disk eksternal x", "ref": "disk:" + label, "due": "2026-01-01",
              "days": 4, "condition": "Rusak berat", "disk": label, "when": "w",
              "rose": [["pending", 0, 3]], "runs": 2, "free": "1.0 GiB", "months": 70,
              "since": "2020-01-01", "limit": 60}
    for code in advice.WARNINGS:
        for lang in ("id", "en"):
            text = advice.text(code, params, lang)
            for verb in ("brankas media retire ", "brankas equipment log ",
                         "brankas equipment retire "):
                if verb in text:
                    after = text.split(verb, 1)[1]
                    assert after.startswith((shlex.quote(label),
                                             shlex.quote("disk:" + label))), (code, lang, text)
    plain = advice.text("smart_failed", {**params, "disk": "DISK-07"}, "en")
    assert "Disk DISK-07 reports" in plain and "retire DISK-07 --reason" in plain
