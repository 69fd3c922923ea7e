"""A staging child that misbehaves, for ``test_s25_stager_review`` (run as
``python -m tests.core.disk.fakestager``; ``BRANKAS_FAKE_STAGER`` says how): it does the
real child's work (``stagerproc``), then answers

- ``double``: each answer twice (one frame too many);
- ``cut``: half of the first answer, then nothing (alive, silent);
- ``huge``: a frame header longer than ``stagerproc.MAX_FRAME``;
- ``noise``: bytes that are no frame at all.
"""

from __future__ import annotations

import os
import sys
import time

from brankas.core.disk import stagerproc


def main() -> int:
    how = os.environ.get("BRANKAS_FAKE_STAGER", "")
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    real_write = out.write

    def write(data: bytes) -> int:
        if how == "double":
            real_write(data)
            return real_write(data)
        if how == "cut":
            real_write(data[:len(data) // 2])
            out.flush()
            time.sleep(60)
        if how == "huge":
            return real_write((stagerproc.MAX_FRAME + 1).to_bytes(4, "big") + data)
        if how == "noise":
            return real_write(b"\xff\xfe garbage \x00" * 64)
        return real_write(data)

    class Out:
        def write(self, data: bytes) -> int:
            return write(data)

        def flush(self) -> None:
            out.flush()

    sys.stdout = type("S", (), {"buffer": Out()})()  # type: ignore[assignment]
    del inp
    return stagerproc.main()


if __name__ == "__main__":
    sys.exit(main())
