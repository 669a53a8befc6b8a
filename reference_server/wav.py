"""Tiny WAV files that stand in for the recordings and streams of the reference server.

The reference server has no telephony behind it: a recording is a quiet 440 Hz tone as long
as the recording was (at least one second, at most ten), 8 kHz, 8-bit, mono.
"""

from __future__ import annotations

import functools
import math
import struct

RATE = 8000
MAX_SECONDS = 10


@functools.lru_cache(maxsize=MAX_SECONDS + 1)
def tone(seconds: int) -> bytes:
    """A WAV file of `seconds` (clamped to 1..10) of a quiet 440 Hz tone."""
    seconds = min(MAX_SECONDS, max(1, seconds))
    period = [128 + round(24 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(RATE // 40)]
    samples = bytes(period) * (seconds * 40)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(samples),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        RATE,
        RATE,
        1,
        8,
        b"data",
        len(samples),
    )
    return header + samples
