"""A bandwidth limit: a token bucket, and a read stream that takes its bytes from one.

``TokenBucket(rate)`` lets ``rate`` bytes a second through on average, with bursts up to
``burst`` bytes; ``take(n)`` sleeps as long as needed. It keeps its own accounting
(``consumed`` bytes, ``waited`` seconds), so a test can check the limit without timing the
network. ``ThrottledReader`` wraps a seekable binary stream: each ``read`` takes its bytes from
the bucket once the reader is *armed* (botocore reads a body once to sign it before it sends
it; only the sending read is limited).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import BinaryIO

# The most bytes paid for at once (http.client reads a body 8 KiB at a time).
CHUNK = 64 * 1024


class TokenBucket:
    """At most ``burst + rate × elapsed`` bytes over any stretch of time."""

    def __init__(self, rate: int, burst: int | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = int(rate)
        # A quarter of a second's worth (at least one chunk): short bursts, smooth enough.
        self.burst = int(burst) if burst is not None else max(CHUNK, self.rate // 4)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()
        self.consumed = 0
        self.waited = 0.0

    def take(self, n: int) -> None:
        """Take ``n`` bytes, sleeping until the bucket has paid for them."""
        if n <= 0:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            self.consumed += n
            if self._tokens < 0:
                # The debt is paid by the time the sleep ends (the next take refills it).
                wait = -self._tokens / self.rate
                self.waited += wait
                self._sleep(wait)


class ThrottledReader:
    """A seekable binary stream whose reads (once armed) are paid from a TokenBucket."""

    def __init__(self, raw: BinaryIO, bucket: TokenBucket | None) -> None:
        self._raw = raw
        self._bucket = bucket
        self.armed = False
        self.sent = 0  # bytes read while armed

    def arm(self) -> None:
        self.armed = True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self.armed and data:
            self.sent += len(data)
            if self._bucket is not None:
                for start in range(0, len(data), CHUNK):
                    self._bucket.take(min(CHUNK, len(data) - start))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ThrottledReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
