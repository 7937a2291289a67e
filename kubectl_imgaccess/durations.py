"""Go's duration grammar (time.ParseDuration), as kubectl's --request-timeout reads it.

`1m30s`, `1h2m3.5s`, `500ms`, `1.5h`, `300us`; `0` (no unit) means none; a bare integer is seconds
(kubectl's own rule for --request-timeout). Units: ns, us (µs, μs), ms, s, m, h. Negative values and
values past Go's limit (about 2562047h) are refused, as Go refuses them.
"""

from __future__ import annotations

import re

UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_SECONDS = (2**63 - 1) / 1e9  # Go's time.Duration is an int64 of nanoseconds
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
HINT = "use a number with a unit: 30s, 1m30s, 500ms, 1h2m3.5s; 0 = none"


def parse_duration(text: str) -> float:
    """Seconds; raises ValueError with a one-line reason."""
    s = text.strip()
    if s.startswith("+"):
        s = s[1:]
    if s.startswith("-"):
        raise ValueError(f"invalid duration {text!r}: must not be negative")
    if s.isdigit():
        seconds = float(int(s))
    else:
        pos, seconds = 0, 0.0
        while pos < len(s):
            m = _PART.match(s, pos)
            if not m:
                raise ValueError(f"invalid duration {text!r} ({HINT})")
            seconds += float(m.group(1)) * UNITS[m.group(2)]
            pos = m.end()
        if not s:
            raise ValueError(f"invalid duration {text!r} ({HINT})")
    if seconds > MAX_SECONDS:
        raise ValueError(f"invalid duration {text!r}: out of range (at most 2562047h)")
    return seconds
