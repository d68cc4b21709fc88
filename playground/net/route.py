"""Routing tables: longest-prefix match with metrics, and `ip route` text.

Like the kernel, a namespace has a `local` table (addresses of its own, consulted
first) and a `main` table (what `ip route` shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

ROUTE_TYPES = ("unicast", "local", "broadcast", "blackhole", "unreachable", "prohibit")
SCOPES = ("global", "link", "host")


class RouteError(ValueError):
    """A route command the kernel would refuse (message as `ip route` prints it)."""


@dataclass(frozen=True, slots=True)
class Nexthop:
    via: IPv4Address
    dev: str
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Route:
    prefix: IPv4Network
    dev: str | None = None
    via: IPv4Address | None = None
    type: str = "unicast"
    proto: str = "boot"
    scope: str = "global"
    src: IPv4Address | None = None
    metric: int = 0
    onlink: bool = False
    nexthops: tuple[Nexthop, ...] = ()

    def text(self) -> str:
        """The line `ip route show` prints for this route."""
        parts = []
        if self.type != "unicast":
            parts.append(self.type)
        if self.prefix.prefixlen == 0:
            parts.append("default")
        elif self.prefix.prefixlen == 32:
            parts.append(str(self.prefix.network_address))
        else:
            parts.append(str(self.prefix))
        if self.via is not None:
            parts += ["via", str(self.via)]
        if self.dev is not None:
            parts += ["dev", self.dev]
        if self.proto != "boot":
            parts += ["proto", self.proto]
        if self.scope != "global":
            parts += ["scope", self.scope]
        if self.src is not None:
            parts += ["src", str(self.src)]
        if self.metric:
            parts += ["metric", str(self.metric)]
        if self.onlink:
            parts.append("onlink")
        text = " ".join(parts)
        for hop in self.nexthops:  # ip route prints each path of a multipath route indented
            text += f" \n\tnexthop via {hop.via} dev {hop.dev} weight {hop.weight}"
        return text + (" " if self.nexthops else "")

    def pick_nexthop(self, flow_hash: int) -> Nexthop:
        """Choose a path by the flow's hash, in proportion to the weights."""
        total = sum(hop.weight for hop in self.nexthops)
        point = flow_hash % total
        for hop in self.nexthops:
            if point < hop.weight:
                return hop
            point -= hop.weight
        return self.nexthops[-1]


class RouteTable:
    """Routes indexed by prefix length so a lookup tries at most 33 dicts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._by_len: dict[int, dict[int, list[Route]]] = {}
        self.generation = 0

    def __len__(self) -> int:
        return sum(len(rs) for d in self._by_len.values() for rs in d.values())

    def routes(self) -> list[Route]:
        """In the order the kernel dumps them: by network address, longer prefix first."""
        everything = [r for d in self._by_len.values() for rs in d.values() for r in rs]
        return sorted(
            everything,
            key=lambda r: (int(r.prefix.network_address), -r.prefix.prefixlen, r.metric),
        )

    def add(self, route: Route) -> None:
        bucket = self._by_len.setdefault(route.prefix.prefixlen, {}).setdefault(
            int(route.prefix.network_address), []
        )
        for existing in bucket:
            if existing.metric == route.metric:
                raise RouteError("RTNETLINK answers: File exists")
        bucket.append(route)
        bucket.sort(key=lambda r: r.metric)
        self.generation += 1

    def delete(self, prefix: IPv4Network, **match) -> Route:
        key = int(prefix.network_address)
        bucket = self._by_len.get(prefix.prefixlen, {}).get(key, [])
        for route in bucket:
            if all(getattr(route, key) == value for key, value in match.items()):
                bucket.remove(route)
                if not bucket:
                    del self._by_len[prefix.prefixlen][key]
                self.generation += 1
                return route
        raise RouteError("RTNETLINK answers: No such process")

    def delete_dev(self, dev: str) -> None:
        """Drop every route through a device, as the kernel does when it goes away."""
        for route in [r for r in self.routes() if r.dev == dev]:
            self.delete(route.prefix, dev=dev, metric=route.metric)

    def lookup(self, dst: IPv4Address) -> Route | None:
        value = int(dst)
        for length in sorted(self._by_len, reverse=True):
            bucket = self._by_len[length]
            if not bucket:
                continue
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0
            routes = bucket.get(value & mask)
            if routes:
                return routes[0]
        return None

    def show(self) -> str:
        return "".join(route.text() + "\n" for route in self.routes())
