"""Durations as nft reads and prints them: `10800s` in, `3h` out."""

from __future__ import annotations

import re

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?")


def parse_duration(text: str) -> float:
    """`10800s`, `3h`, `1h30m`, `500ms` or a bare number of seconds."""
    if text.isdigit():
        return float(text)
    found = _DURATION.fullmatch(text)
    if found is None or not text:
        raise ValueError(f"Wrong time format: {text}")
    days, hours, minutes, seconds, millis = (int(part or 0) for part in found.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds + millis / 1000


def duration(seconds: float) -> str:
    """nft's time_print: `3h`, `1m30s`, `9s996ms`."""
    millis = round(seconds * 1000)
    whole, millis = divmod(millis, 1000)
    parts = []
    for unit, size in _UNITS:
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts) or "0s"
