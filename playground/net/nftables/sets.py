"""Named and anonymous sets and maps: a hash lookup for exact keys, a sorted interval
table with binary search for `flags interval`, element timeouts on the lab clock."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace

from playground.net.nftables.timefmt import duration
from playground.net.nftables.types import DataType, Interval


@dataclass(frozen=True, slots=True)
class Verdict:
    """accept, drop, return, continue, jump NAME, goto NAME: a verdict map's data."""

    kind: str
    target: str | None = None

    def text(self) -> str:
        return f"{self.kind} {self.target}" if self.target else self.kind

    def json(self):
        return {self.kind: {"target": self.target} if self.target else None}


@dataclass(slots=True)
class Element:
    key: tuple             # one value per key type (int, str or Interval)
    data: object = None    # a map's value: a Verdict or a plain value
    timeout: float | None = None
    expires_at: float | None = None
    comment: str | None = None


@dataclass(slots=True)
class NftSet:
    name: str
    key_types: tuple[DataType, ...]
    data_type: DataType | None = None     # set for a map
    flags: tuple[str, ...] = ()
    timeout: float | None = None          # the default for elements added without one
    size: int | None = None
    comment: str | None = None
    handle: int = 0
    anonymous: bool = False
    elements: dict = field(default_factory=dict)      # key -> Element
    _intervals: list | None = field(default=None, repr=False)

    @property
    def is_map(self) -> bool:
        return self.data_type is not None

    @property
    def interval(self) -> bool:
        return "interval" in self.flags

    def clone(self) -> NftSet:
        return replace(self, elements=dict(self.elements), _intervals=None)

    # changes

    def add(self, element: Element, now: float, create: bool = False) -> None:
        for value in element.key:
            if isinstance(value, Interval) and not self.interval:
                raise ValueError("Set member cannot be prefix, missing interval flag on "
                                 "declaration" if value.prefix is not None else
                                 "Set member cannot be range, missing interval flag on "
                                 "declaration")
        if element.timeout is None and self.timeout is not None:
            element.timeout = self.timeout
        if element.timeout is not None:
            if "timeout" not in self.flags:
                raise ValueError("Could not process rule: Operation not supported")
            element.expires_at = now + element.timeout
        key = _key(element.key)
        existing = self.elements.get(key)
        if existing is not None and existing.expires_at is not None and \
                existing.expires_at <= now:
            existing = None   # timed out: as good as gone
        if existing is not None:
            # the kernel takes the same element again quietly, a new value for it not
            if create or existing.data != element.data:
                raise ValueError("Could not process rule: File exists")
            return
        if self.interval and key not in self.elements:
            low, high = _bounds(element.key[0])
            for other in self.elements.values():
                other_low, other_high = _bounds(other.key[0])
                if low <= other_high and other_low <= high:
                    raise ValueError("interval overlaps with an existing one")
        self.elements[key] = element
        self._intervals = None

    def remove(self, key: tuple) -> None:
        if self.elements.pop(_key(key), None) is None:
            raise ValueError("Could not process rule: No such file or directory")
        self._intervals = None

    def flush(self) -> None:
        self.elements.clear()
        self._intervals = None

    # the packet path

    def lookup(self, value, now: float) -> Element | None:
        """The element a key hits: one hash probe, or a binary search of the intervals."""
        if not isinstance(value, tuple):
            value = (value,)
        found = self._find_interval(value[0]) if self.interval else self.elements.get(value)
        if found is not None and found.expires_at is not None and found.expires_at <= now:
            return None   # timed out on the lab clock (the kernel's gc removes it later)
        return found

    def update(self, value, now: float, timeout: float | None = None) -> Element:
        """`update @set { key }`: add the key or restart its timeout."""
        key = value if isinstance(value, tuple) else (value,)
        element = self.elements.get(key)
        lasting = timeout if timeout is not None else self.timeout
        if element is None or (element.expires_at is not None and element.expires_at <= now):
            element = Element(key, timeout=lasting)
            self.elements[key] = element
            self._intervals = None
        if lasting is not None:
            element.timeout = lasting
            element.expires_at = now + lasting
        return element

    def _find_interval(self, value) -> Element | None:
        if self._intervals is None:
            spans = sorted((_bounds(e.key[0]) + (e,) for e in self.elements.values()),
                           key=lambda span: span[0])
            self._intervals = ([low for low, _, _ in spans], spans)
        lows, spans = self._intervals
        at = bisect_right(lows, value) - 1
        if at >= 0 and spans[at][1] >= value:
            return spans[at][2]
        return None

    # how nft shows it

    def live(self, now: float) -> list[Element]:
        """The elements in the order nft lists them: intervals by their start, the rest
        by the bytes of the key read as one little-endian number (nft's sort)."""
        alive = [e for e in self.elements.values()
                 if e.expires_at is None or e.expires_at > now]
        if self.interval:
            return sorted(alive, key=lambda e: _bounds(e.key[0]))
        if len(self.key_types) == 1:
            return sorted(alive, key=lambda e: _single_order(e.key[0]))
        return sorted(alive, key=self._concat_order)

    def _concat_order(self, element: Element) -> int:
        data = b"".join(t.sort_bytes(v) for t, v in zip(self.key_types, element.key,
                                                         strict=True))
        return int.from_bytes(data, "little")

    def key_text(self, element: Element) -> str:
        return " . ".join(t.show(v) for t, v in zip(self.key_types, element.key, strict=True))

    def element_text(self, element: Element, now: float) -> str:
        text = self.key_text(element)
        if element.timeout is not None and element.timeout != self.timeout:
            text += f" timeout {duration(element.timeout)}"
        if element.expires_at is not None:
            text += f" expires {duration(max(0.0, element.expires_at - now))}"
        if element.comment is not None:
            text += f' comment "{element.comment}"'
        if self.is_map:
            text += " : " + (element.data.text() if isinstance(element.data, Verdict)
                             else self.data_type.show(element.data))
        return text

    def key_json(self, element: Element):
        parts = [t.json(v) for t, v in zip(self.key_types, element.key, strict=True)]
        return parts[0] if len(parts) == 1 else {"concat": parts}


def _key(values: tuple) -> tuple:
    return tuple(values)


def _bounds(value) -> tuple[int, int]:
    if isinstance(value, Interval):
        return value.low, value.high
    return value, value


def _single_order(value):
    if isinstance(value, str):   # an interface name: its 16 bytes as a little-endian number
        return (1, int.from_bytes(value.encode().ljust(16, b"\0"), "little"))
    return (0, value.low if isinstance(value, Interval) else value)
