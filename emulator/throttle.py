"""ARM-like throttling: one token bucket per subscription and kind (reads, writes)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    capacity: float
    refill_per_s: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._stamp = self.clock()

    def take(self) -> tuple[bool, int, float]:
        """Take one token: (allowed, tokens remaining, seconds until one is available)."""
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.refill_per_s)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True, int(self._tokens), 0.0
        wait = (1 - self._tokens) / self.refill_per_s if self.refill_per_s > 0 else 3600.0
        return False, 0, wait


@dataclass
class Throttle:
    """Buckets per (subscription, kind). Azure: writes 200 burst / 10 per s, reads 250 / 25."""

    write_burst: float = 200
    write_refill: float = 10
    read_burst: float = 250
    read_refill: float = 25
    enabled: bool = True
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, *, write_burst: float | None = None, write_refill: float | None = None,
                  read_burst: float | None = None, read_refill: float | None = None,
                  enabled: bool | None = None) -> None:
        with self._lock:
            if write_burst is not None:
                self.write_burst = write_burst
            if write_refill is not None:
                self.write_refill = write_refill
            if read_burst is not None:
                self.read_burst = read_burst
            if read_refill is not None:
                self.read_refill = read_refill
            if enabled is not None:
                self.enabled = enabled
            self._buckets.clear()

    def take(self, subscription: str, kind: str) -> tuple[bool, int, int]:
        """(allowed, remaining, Retry-After seconds) for one request of ``kind`` ('reads'|'writes')."""
        with self._lock:
            key = (subscription.lower(), kind)
            bucket = self._buckets.get(key)
            if bucket is None:
                burst, refill = (
                    (self.write_burst, self.write_refill) if kind == "writes" else (self.read_burst, self.read_refill)
                )
                bucket = self._buckets[key] = TokenBucket(burst, refill, self.clock)
            if not self.enabled:
                return True, int(bucket.capacity) - 1, 0
            allowed, remaining, wait = bucket.take()
            return allowed, remaining, max(1, math.ceil(wait)) if not allowed else 0
