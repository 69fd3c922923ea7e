"""``python -m bench.memwrap ARGS``: the real ``brankas`` CLI, with a memory probe.

Used for one extra run only, to split the peak memory of a command in two: the part
before and including the password check (Django's Argon2 hasher alone takes about
100 MiB, by design of a memory-hard hash) and the part after it, where the file is
read, checked, encrypted and stored. Once the acting user has authenticated, the
process's high-water mark is reset (``/proc/self/clear_refs``, value 5); at exit both
figures are written to stderr as one ``BENCH-MEM {json}`` line, with the time taken
before and after the password check.
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from typing import Any

_marks: dict[str, float | int | None] = {
    "hwm_through_auth_kib": None,
    "hwm_after_auth_kib": None,
    "seconds_to_auth": None,  # from the start of this module to the end of the password check
    "seconds_after_auth": None,  # from then to exit: checking, encrypting, storing, recording
}
_t0 = time.monotonic()
_t_auth: list[float] = []
_t_unlock: list[float] = []


def _hwm() -> int | None:
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _report() -> None:
    _marks["hwm_after_auth_kib"] = _hwm()
    if _t_auth:
        _marks["seconds_to_auth"] = round(_t_auth[0] - _t0, 4)
        _marks["seconds_after_auth"] = round(time.monotonic() - _t_auth[0], 4)
    if _t_unlock:
        _marks["hwm_after_unlock_kib"] = _marks["hwm_after_auth_kib"]
        _marks["seconds_after_unlock"] = round(time.monotonic() - _t_unlock[-1], 4)
    sys.stderr.write("BENCH-MEM " + json.dumps(_marks) + "\n")
    sys.stderr.flush()


def _install() -> None:
    import brankas.cli.auth as cli_auth

    original = cli_auth.ensure_initialized

    def ensure_initialized() -> None:
        original()
        import brankas.web.accounts.services as accounts

        authenticate = accounts.user_authenticate

        def user_authenticate(*args: Any, **kwargs: Any) -> Any:
            user = authenticate(*args, **kwargs)
            _marks["hwm_through_auth_kib"] = _hwm()
            _reset_hwm()
            _t_auth.append(time.monotonic())
            return user

        accounts.user_authenticate = user_authenticate  # type: ignore[assignment]

    cli_auth.ensure_initialized = ensure_initialized  # type: ignore[assignment]

    # A key grant unlocks the holder's identity (scrypt, memory-hard by design, as large as
    # rage chose when the key was made): its high-water mark is split off the same way.
    import brankas.core.crypto as crypto

    unlock = crypto.unlock_identity

    def unlock_identity(*args: Any, **kwargs: Any) -> Any:
        identity = unlock(*args, **kwargs)
        _marks["hwm_through_unlock_kib"] = max(_marks.get("hwm_through_unlock_kib") or 0,
                                               _hwm() or 0)
        _reset_hwm()
        _t_unlock.append(time.monotonic())
        return identity

    crypto.unlock_identity = unlock_identity  # type: ignore[assignment]


def main() -> None:
    _install()
    atexit.register(_report)
    from brankas.cli import main as brankas_main

    brankas_main(prog_name="brankas")


if __name__ == "__main__":
    main()
