"""A network namespace: devices, addresses, routes, sysctls, sockets, netfilter, conntrack."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from playground.net.conntrack import Conntrack
from playground.net.hooks import HookTable
from playground.net.ipset import IpSets, set_references
from playground.net.ipvs import Ipvs
from playground.net.link import Bridge, Device, Loopback
from playground.net.netfilter import Netfilter
from playground.net.route import Nexthop, Route, RouteError, RouteTable
from playground.net.walk import ipvs as ipvs_hooks
from playground.net.walk.nf import NEW_HOOKS

ANY = IPv4Address("0.0.0.0")
SCOPE_VALUES = {"global": 0, "link": 253, "host": 254}


class NetError(ValueError):
    """A configuration request the kernel would refuse."""


@dataclass(frozen=True, slots=True)
class Address:
    interface: IPv4Interface
    dev: str
    scope: str = "global"

    @property
    def ip(self) -> IPv4Address:
        return self.interface.ip


@dataclass(frozen=True, slots=True)
class Socket:
    """A bound socket; `remote` is set for a connected (client) socket."""

    proto: str
    address: IPv4Address
    port: int
    owner: str
    remote: tuple[IPv4Address, int] | None = None
    cookie: int = 0  # the kernel's socket cookie, which BPF socket hooks key their maps by

    def text(self) -> str:
        return f"{self.proto} {self.address}:{self.port} ({self.owner})"


@dataclass(frozen=True, slots=True)
class RouteResult:
    route: Route
    table: str
    dev: str | None
    gateway: IPv4Address | None
    src: IPv4Address | None


@functools.lru_cache(maxsize=1024)
def _address_routes(dev: str, cidr: str, scope: str) -> tuple[Address, tuple, tuple]:
    """An address with the local and main routes the kernel adds for it, worked out once
    per distinct address (every namespace's lo has the same); all are immutable."""
    interface = _interface(cidr)
    ip, net = interface.ip, interface.network
    host = IPv4Network((int(ip), 32))
    local = [Route(host, dev=dev, type="local", proto="kernel", scope="host", src=ip)]
    if net.prefixlen < 31:
        broadcast = int(ip) | (0xFFFFFFFF >> net.prefixlen)
        local.append(Route(IPv4Network((broadcast, 32)), dev=dev, type="broadcast",
                           proto="kernel", scope="link", src=ip))
    main = ()
    if net.prefixlen < 32 and dev != "lo":
        main = (Route(net, dev=dev, proto="kernel", scope="link", src=ip),)
    return Address(interface, dev, scope), tuple(local), main


def _interface(cidr: str) -> IPv4Interface:
    """IPv4Interface(cidr), three times faster for the usual ADDRESS/LENGTH; anything else
    (and every error) is left to ipaddress."""
    text, slash, length = cidr.partition("/")
    if slash and length.isascii() and length.isdigit() and int(length) <= 32:
        try:
            ip = IPv4Address(text)
        except ValueError:
            pass
        else:
            return IPv4Interface((int(ip), int(length)))
    return IPv4Interface(cidr)


# the sysctls the model reads, with the values the kernel accepts for them
SYSCTL_RANGES = {"net.ipv4.ip_forward": (0, 1), "net.bridge.bridge-nf-call-iptables": (0, 1),
                 "net.ipv4.vs.conntrack": (0, 1), "net.ipv4.fib_multipath_hash_policy": (0, 3),
                 "net.ipv4.conf.all.route_localnet": (0, 1),
                 "net.ipv4.conf.all.arp_ignore": (0, 8), "net.ipv4.conf.all.arp_announce": (0, 2)}


class Namespace:
    def __init__(self, name: str) -> None:
        self.name = name
        self.devices: dict[str, Device] = {}
        self.addresses: list[Address] = []
        self.local = RouteTable("local")
        self.main = RouteTable("main")
        self.sysctl: dict[str, str] = {
            "net.ipv4.ip_forward": "0",
            "net.bridge.bridge-nf-call-iptables": "1",
            "net.ipv4.conf.all.route_localnet": "0",
            "net.ipv4.conf.all.arp_ignore": "0",
            "net.ipv4.conf.all.arp_announce": "0",
        }
        self.neighbours: dict[IPv4Address, tuple[str, str]] = {}
        # addresses a process answers ARP for on a device without owning them (a MetalLB
        # speaker's layer-2 announcement): address -> (device, who answers)
        self.arp_responders: dict[IPv4Address, tuple[str, str]] = {}
        self.garp_learnt: dict[IPv4Address, str] = {}   # entries a gratuitous ARP changed
        self.permanent_neighbours: set[IPv4Address] = set()  # `nud permanent`: never ARPed
        self.sockets: list[Socket] = []  # a listener closes (close); connections stay
        self._ports_taken: set[tuple[str, int]] | None = None  # made once sockets are many
        self.netfilter = Netfilter()
        self.hooks: HookTable = NEW_HOOKS  # shared until this namespace registers its own
        self.conntrack = Conntrack()
        self.force_conntrack = False
        self.cgroup = None  # the cgroup v2 its processes run in, if BPF programs watch it
        self.ipsets = IpSets()
        self.ipvs: Ipvs | None = None  # the ip_vs module, once something loads it
        self.nft_if_loaded = None  # nf_tables, once something uses it (see `nft`)
        self.nfqueues: dict[int, object] = {}  # queue number -> bound userspace program
        self.add_device(Loopback("lo", "00:00:00:00:00:00"))
        self.add_address("lo", "127.0.0.1/8", scope="host")

    def __repr__(self) -> str:
        return f"Namespace({self.name!r})"

    # devices and addresses

    def add_device(self, device: Device) -> Device:
        if device.name in self.devices:
            raise NetError(f"RTNETLINK answers: File exists (device {device.name})")
        device.namespace = self
        self.devices[device.name] = device
        return device

    def remove_device(self, name: str) -> Device:
        device = self.device(name)
        for address in [a for a in self.addresses if a.dev == name]:
            self.addresses.remove(address)
        self.local.delete_dev(name)
        self.main.delete_dev(name)
        if device.master is not None:
            device.master.release(device)
        if isinstance(device, Bridge):
            for port in list(device.ports.values()):
                device.release(port)
        self.neighbours = {ip: n for ip, n in self.neighbours.items() if n[1] != name}
        self.permanent_neighbours &= set(self.neighbours)
        del self.devices[name]
        for address in self.addresses:  # another device may hold the same address
            self._add_quietly(self.local, Route(IPv4Network(address.ip), dev=address.dev,
                                                type="local", proto="kernel", scope="host",
                                                src=address.ip))
        device.namespace = None
        return device

    def device(self, name: str) -> Device:
        try:
            return self.devices[name]
        except KeyError:
            raise NetError(f'Cannot find device "{name}"') from None

    def add_address(self, dev: str, cidr: str, scope: str = "global") -> Address:
        self.device(dev)
        address, local_routes, main_routes = _address_routes(dev, cidr, scope)
        interface = address.interface
        if any(a.interface == interface and a.dev == dev for a in self.addresses):
            raise NetError("RTNETLINK answers: File exists")
        self.addresses.append(address)
        for route in local_routes:
            self._add_quietly(self.local, route)
        for route in main_routes:
            self._add_quietly(self.main, route)
        return address

    def remove_address(self, dev: str, cidr: str) -> None:
        """`ip addr del`: the address and its local route go (unless another holds it)."""
        interface = IPv4Interface(cidr)
        found = next((a for a in self.addresses if a.interface == interface and a.dev == dev),
                     None)
        if found is None:
            raise NetError("RTNETLINK answers: Cannot assign requested address")
        self.addresses.remove(found)
        if not any(a.ip == found.ip for a in self.addresses):
            self.local.delete(IPv4Network(found.ip), dev=dev)

    @staticmethod
    def _add_quietly(table: RouteTable, route: Route) -> None:
        try:
            table.add(route)
        except RouteError:
            pass  # a second address in the same subnet shares the kernel route

    def is_local(self, ip: IPv4Address) -> bool:
        found = self.local.lookup(ip)
        return found is not None and found.type == "local"

    def answers_arp(self, ip: IPv4Address, dev: Device) -> str | None:
        """Who here answers an ARP who-has for `ip` arriving on `dev`: the kernel for an
        address it owns (arp_ignore 0: on any device; 1: only on the one asked), else a
        process that announces it on that device; None if nobody does."""
        anywhere = self.sysctl.get("net.ipv4.conf.all.arp_ignore", "0") == "0"
        if self.is_local(ip) and (anywhere or any(a.ip == ip and a.dev == dev.name
                                                  for a in self.addresses)):
            return "kernel"
        responder = self.arp_responders.get(ip)
        if responder is not None and responder[0] == dev.name:
            return responder[1]
        return None

    def local_addresses(self) -> frozenset[IPv4Address]:
        return frozenset(a.ip for a in self.addresses)

    def primary_address(self, dev: str) -> IPv4Address | None:
        return next((a.ip for a in self.addresses if a.dev == dev), None)

    def add_neighbour(self, ip: IPv4Address, mac: str, dev: str) -> None:
        """`ip neigh replace IP lladdr MAC dev DEV nud permanent`."""
        self.device(dev)
        self.neighbours[IPv4Address(ip)] = (mac, dev)
        self.garp_learnt.pop(IPv4Address(ip), None)
        self.permanent_neighbours.add(IPv4Address(ip))

    def remove_neighbour(self, ip: IPv4Address) -> None:
        self.neighbours.pop(IPv4Address(ip), None)
        self.garp_learnt.pop(IPv4Address(ip), None)
        self.permanent_neighbours.discard(IPv4Address(ip))

    # routing

    def add_route(self, route: Route) -> None:
        if route.dev is not None:
            self.device(route.dev)
        for hop in route.nexthops:
            self.device(hop.dev)
        if route.via is not None and not route.onlink:
            reach = self.main.lookup(route.via)
            if reach is None or reach.via is not None or (route.dev and reach.dev != route.dev):
                raise RouteError("Error: Nexthop has invalid gateway.")
        if route.dev is None and route.via is not None:
            route = Route(**{**_fields(route), "dev": self.main.lookup(route.via).dev})
        self.main.add(route)

    def route_lookup(self, dst: IPv4Address, flow=None) -> RouteResult | None:
        """The route for `dst`; a multipath route picks its path by hashing the flow."""
        for table in (self.local, self.main):
            route = table.lookup(dst)
            if route is None:
                continue
            if route.nexthops:
                hop = self.pick_nexthop(route, flow)
                path = Route(route.prefix, dev=hop.dev, via=hop.via, scope=route.scope)
                return RouteResult(route, table.name, hop.dev, hop.via,
                                   route.src or self.select_source(path, dst))
            # a packet for one of our own addresses leaves through lo, whatever the route's dev
            dev = "lo" if route.type == "local" else route.dev
            return RouteResult(route, table.name, dev, route.via,
                               route.src or self.select_source(route, dst))
        return None

    def pick_nexthop(self, route: Route, flow) -> Nexthop:
        """The path a flow takes on a multipath route: the kernel hashes the flow."""
        policy = self.sysctl.get("net.ipv4.fib_multipath_hash_policy", "0")
        return route.pick_nexthop(flow_hash(flow, policy) if flow else 0)

    def select_source(self, route: Route, dst: IPv4Address) -> IPv4Address | None:
        """The kernel's preferred-source choice (inet_select_addr) for a route without src."""
        if route.dev is None:
            return None
        limit = SCOPE_VALUES.get(route.scope, 0)
        near = route.via or dst
        candidates = [a for a in self.addresses
                      if a.dev == route.dev and SCOPE_VALUES[a.scope] <= limit]
        for address in candidates:
            if near in address.interface.network:
                return address.ip
        if candidates:
            return candidates[0].ip
        for address in self.addresses:
            if address.dev != "lo" and address.scope == "global":
                return address.ip
        return self.primary_address("lo")

    def write_sysctl(self, setting: str) -> tuple[str, str]:
        """`sysctl -w KEY=VALUE`, for the keys this model has."""
        key, sep, value = setting.partition("=")
        if not sep or not key or not value:
            raise NetError(f"sysctl {setting!r}: write it as KEY=VALUE")
        if key not in self.sysctl or key not in SYSCTL_RANGES:
            known = ", ".join(sorted(k for k in self.sysctl if k in SYSCTL_RANGES))
            raise NetError(f"sysctl: cannot stat /proc/sys/{key.replace('.', '/')}: "
                           f"not modelled here (known: {known})")
        low, high = SYSCTL_RANGES[key]
        if not (value.isascii() and value.isdigit()) or len(value) > 10 or \
                not low <= int(value) <= high:
            raise NetError(f'sysctl: setting key "{key}": Invalid argument (the model takes '
                           f"{low}-{high})")
        value = str(int(value))
        self.sysctl[key] = value
        return key, value

    def load_ipvs(self) -> Ipvs:
        """modprobe ip_vs: the table appears, with its sysctls (conntrack off by default)."""
        if self.ipvs is None:
            self.ipvs = Ipvs()
            self.sysctl.setdefault("net.ipv4.vs.conntrack", "0")
            ipvs_hooks.register(self.own_hooks())
        return self.ipvs

    @property
    def nft(self):
        """This namespace's nf_tables (playground.net.nftables.Nftables): `nft.run(text)`
        applies nft input as one transaction, `nft.list_ruleset()` prints it."""
        if self.nft_if_loaded is None:
            from playground.net.nftables.dataplane import attach  # it imports the walk
            self.nft_if_loaded = attach(self)
        return self.nft_if_loaded

    def own_hooks(self) -> HookTable:
        """This namespace's own hook table (a copy of the shared one the first time)."""
        if self.hooks.shared:
            self.hooks = self.hooks.copy()
        return self.hooks

    def register_hook(self, hook: str, priority: int, name: str, fn) -> None:
        """nf_register_net_hook: run `fn` at `hook` in this namespace, by `priority`."""
        self.own_hooks().register(hook, priority, name, fn)

    def bind_queue(self, number: int, program) -> None:
        """A userspace program binds queue `number` (NFQNL_CFG_CMD_BIND); one per queue."""
        if not 0 <= number <= 65535:
            raise NetError(f"queue number {number} is out of range (0-65535)")
        held = self.nfqueues.get(number)
        if held is not None and held is not program:
            raise NetError(f"queue {number} in {self.name} is already bound by {held.name}")
        self.nfqueues[number] = program

    def unbind_queue(self, number: int) -> None:
        self.nfqueues.pop(number, None)

    def ipset_list(self, name: str | None = None) -> str:
        """`ipset list [NAME]`, with each set's references from this namespace's rules."""
        return self.ipsets.listing(set_references(self.netfilter), name)

    # sockets

    def bind(self, proto: str, port: int, owner: str, address: IPv4Address = ANY) -> Socket:
        for sock in self.sockets:
            if sock.remote is None and sock.proto == proto and sock.port == port and (
                sock.address == address or ANY in (sock.address, address)
            ):
                raise NetError(
                    f"{owner}: bind {proto} {address}:{port}: address already in use "
                    f"(held by {sock.owner})"
                )
        sock = Socket(proto, address, port, owner)
        self._add_socket(sock)
        return sock

    def unbind(self, sock: Socket) -> None:
        """Close a socket (its process ended)."""
        if sock in self.sockets:
            self.sockets.remove(sock)
            self._ports_taken = None

    def connect(self, proto: str, local: IPv4Address, port: int, remote: IPv4Address,
                remote_port: int, owner: str, cookie: int = 0) -> Socket:
        sock = Socket(proto, local, port, owner, (remote, remote_port), cookie)
        self._add_socket(sock)
        return sock

    def close(self, sock: Socket) -> None:
        """A process closes a listening socket (kube-proxy's health check server does)."""
        self.sockets.remove(sock)
        self._ports_taken = None   # made again from the sockets left when next needed

    def _add_socket(self, sock: Socket) -> None:
        self.sockets.append(sock)
        if self._ports_taken is not None:
            self._ports_taken.add((sock.proto, sock.port))

    def port_in_use(self, proto: str, port: int) -> bool:
        """Whether a socket holds the port; a client that opened many connections (every
        trace is one) is answered from a set instead of a scan."""
        taken = self._ports_taken
        if taken is None:
            if len(self.sockets) < 32:
                return any(s.proto == proto and s.port == port for s in self.sockets)
            taken = self._ports_taken = {(s.proto, s.port) for s in self.sockets}
        return (proto, port) in taken

    def find_socket(self, proto: str, dst: IPv4Address, dport: int, src: IPv4Address,
                    sport: int) -> Socket | None:
        """Connected sockets win over listeners; a specific address over 0.0.0.0."""
        best = None
        for sock in self.sockets:
            if sock.proto != proto or sock.port != dport:
                continue
            if sock.remote is not None:
                if sock.remote == (src, sport) and sock.address == dst:
                    return sock
                continue
            if sock.address == dst or sock.address == ANY and best is None:
                best = sock
        return best

    # conntrack is only active where some rule needs it, as nf_conntrack registers on demand

    @property
    def tracks_connections(self) -> bool:
        if self.force_conntrack:
            return True
        if self.ipvs is not None and self.sysctl.get("net.ipv4.vs.conntrack") == "1":
            return True
        if self.nft_if_loaded is not None and self.nft_if_loaded.needs_conntrack:
            return True
        made = self.netfilter.tables.get("nat")
        return made is not None and any(chain.rules for chain in made.chains.values())

    def ip_route(self) -> str:
        return self.main.show()


def flow_hash(packet, policy: str) -> int:
    """A stable stand-in for the kernel's multipath hash: L3 (policy 0) or L3+L4 (policy 1)."""
    key = f"{packet.src}>{packet.dst}"
    if policy == "1":
        key += f"/{packet.proto}/{packet.sport}/{packet.dport}"
    return zlib.crc32(key.encode())


def _fields(route: Route) -> dict:
    return {name: getattr(route, name) for name in route.__dataclass_fields__}
