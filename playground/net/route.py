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
    """Routes indexed by prefix length so a lookup tries at most 33 dicts.

    A table may also show a shared layer (`share`): routes many namespaces hold alike, such
    as every node's route to every other node's pod CIDR, kept once. The table hides its
    own entry in that layer and any shared route deleted here; its own routes come first.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._by_len: dict[int, dict[int, list[Route]]] = {}
        self._generation = 0
        self.shared: RouteTable | None = None
        self.hidden: set[Route] = set()   # shared routes deleted in this table

    @property
    def generation(self) -> int:
        return self._generation + (self.shared.generation if self.shared is not None else 0)

    @generation.setter
    def generation(self, value: int) -> None:
        self._generation = value - (self.shared.generation if self.shared is not None else 0)

    def share(self, shared: RouteTable, hide: Route | None = None) -> None:
        self.shared = shared
        if hide is not None:
            self.hidden.add(hide)
        self._generation += 1

    def _visible_shared(self) -> list[Route]:
        if self.shared is None:
            return []
        return [r for r in self.shared.routes() if r not in self.hidden]

    def __len__(self) -> int:
        own = sum(len(rs) for d in self._by_len.values() for rs in d.values())
        return own + len(self._visible_shared())

    def routes(self) -> list[Route]:
        """In the order the kernel dumps them: by network address, longer prefix first."""
        everything = [r for d in self._by_len.values() for rs in d.values() for r in rs]
        everything += self._visible_shared()
        return sorted(
            everything,
            key=lambda r: (int(r.prefix.network_address), -r.prefix.prefixlen, r.metric),
        )

    def add(self, route: Route) -> None:
        if self.shared is not None and any(
                r.metric == route.metric and r not in self.hidden
                for r in self.shared._bucket(route.prefix)):
            raise RouteError("RTNETLINK answers: File exists")
        bucket = self._by_len.setdefault(route.prefix.prefixlen, {}).setdefault(
            int(route.prefix.network_address), []
        )
        for existing in bucket:
            if existing.metric == route.metric:
                raise RouteError("RTNETLINK answers: File exists")
        bucket.append(route)
        bucket.sort(key=lambda r: r.metric)
        self.generation += 1

    def _bucket(self, prefix: IPv4Network) -> list[Route]:
        return self._by_len.get(prefix.prefixlen, {}).get(int(prefix.network_address), [])

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
        for route in self.shared._bucket(prefix) if self.shared is not None else []:
            if route not in self.hidden and all(getattr(route, key) == value
                                                for key, value in match.items()):
                self.hidden.add(route)   # gone here; the other namespaces keep it
                self.generation += 1
                return route
        raise RouteError("RTNETLINK answers: No such process")

    def delete_dev(self, dev: str) -> None:
        """Drop every route through a device, as the kernel does when it goes away."""
        for route in [r for r in self.routes() if r.dev == dev]:
            self.delete(route.prefix, dev=dev, metric=route.metric)

    def lookup(self, dst: IPv4Address) -> Route | None:
        """Longest prefix first; at equal length an own route before a shared one."""
        value = int(dst)
        shared = self.shared._by_len if self.shared is not None else {}
        for length in sorted(self._by_len.keys() | shared.keys(), reverse=True):
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0
            routes = self._by_len.get(length, {}).get(value & mask)
            if routes:
                return routes[0]
            for route in shared.get(length, {}).get(value & mask, ()):
                if route not in self.hidden:
                    return route
        return None

    def show(self) -> str:
        return "".join(route.text() + "\n" for route in self.routes())
