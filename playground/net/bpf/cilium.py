"""The programs and maps Cilium loads on a node, with kube-proxy replacement and native
routing: service translation at the socket for local processes, at eth0 for traffic from
outside, conntrack and SNAT in maps, delivery to pods through the endpoint map.

Each program returns one Verdict whose sentence says what it did and which map entry
decided. The agent (playground/proxy/cilium.py) fills the maps; nothing here reads
Kubernetes objects.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv4Network

from playground.net import l2
from playground.net.bpf.ct import CT_MAP, NAT_MAP, ConntrackMap, SnatMap
from playground.net.bpf.enforce import Check, Enforcement, identity_mark
from playground.net.bpf.ipcache import HOST, INIT, REMOTE_NODE
from playground.net.bpf.lb import ANY, REVNAT, Frontend, LoadBalancerMaps, Selection
from playground.net.bpf.maps import BpfMap
from playground.net.bpf.program import (
    Cgroup,
    Program,
    SockContext,
    TcContext,
    Verdict,
    attach_tc,
)
from playground.net.bpf.tabwriter import tabwrite
from playground.net.packet import ICMP_DEST_UNREACH, PORT_UNREACHABLE, Packet

CGROUP_ROOT = "/run/cilium/cgroupv2"
HOST_DEVICE, NET_DEVICE, TUNNEL_DEVICE = "cilium_host", "cilium_net", "cilium_vxlan"
REVERSE_SK, LXC_MAP, TUNNEL_MAP = "cilium_lb4_reverse_sk", "cilium_lxc", "cilium_tunnel_map"
AFFINITY_MAP = "cilium_lb4_affinity"
AFFINITY_SECONDS = 10800  # sessionAffinityConfig.clientIP.timeoutSeconds default
NAT_PORTS = range(32768, 65536)  # where Cilium's SNAT picks ports for NodePort traffic


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    ip: IPv4Address
    lxc: str
    mac: str  # the pod's eth0, written as destination when redirecting to it
    identity: int = INIT  # its security identity (sec_id), until the agent resolves labels

    def text(self) -> str:
        return f"{LXC_MAP} {self.ip} → id={self.id} ifname={self.lxc} mac={self.mac}"


class CiliumDatapath:
    """One node's programs and maps."""

    def __init__(self, ns, rng, node_ip: IPv4Address, tunnel: bool = False) -> None:
        self.ns, self.rng, self.node_ip, self.tunnel = ns, rng, node_ip, tunnel
        self.lb = LoadBalancerMaps()
        self.ct = ConntrackMap()
        self.snat = SnatMap()
        self.reverse_sk = BpfMap(REVERSE_SK, "lru_hash", 262144)
        self.lxc = BpfMap(LXC_MAP, "hash", 65535)
        self.tunnel_map = BpfMap(TUNNEL_MAP, "hash", 65536)  # pod CIDR → its node's IP
        self.affinity = BpfMap(AFFINITY_MAP, "lru_hash", 65536)  # (client, revNAT) → backend
        self.node_ips: set[IPv4Address] = {node_ip}  # every node's, for NodePort wildcards
        self.enforcement = Enforcement()
        self.cgroup = Cgroup(CGROUP_ROOT)
        self._ids = itertools.count(100)
        self._endpoint_ids = itertools.count(1)
        self.sock_connect = self._program("cil_sock4_connect", "cgroup/connect4",
                                          self.run_sock_connect)
        self.sock_sendmsg = self._program("cil_sock4_sendmsg", "cgroup/sendmsg4",
                                          self.run_sock_connect)
        self.sock_getpeername = self._program("cil_sock4_getpeername", "cgroup/getpeername4",
                                              self.run_sock_reverse)
        self.sock_recvmsg = self._program("cil_sock4_recvmsg", "cgroup/recvmsg4",
                                          self.run_sock_reverse)
        self.from_netdev = self._program("cil_from_netdev", "tc", self.run_from_netdev)
        self.from_host = self._program("cil_from_host", "tc", self.run_from_host)
        self.from_container = self._program("cil_from_container", "tc",
                                            self.run_from_container)
        self.to_container = self._program("cil_to_container", "tc", self.run_to_container)
        self.from_overlay = self._program("cil_from_overlay", "tc", self.run_from_overlay)

    def _program(self, name: str, section: str, run) -> Program:
        return Program(name, section, run, next(self._ids))

    # loading

    def attach_node(self, uplink: str = "eth0") -> None:
        """The socket programs on the cgroup root, the device programs on eth0 and
        cilium_host; pods join the cgroup as their containers start."""
        for hook, program in (("connect4", self.sock_connect), ("sendmsg4", self.sock_sendmsg),
                              ("getpeername4", self.sock_getpeername),
                              ("recvmsg4", self.sock_recvmsg)):
            self.cgroup.attach(hook, program)
        self.ns.cgroup = self.cgroup
        attach_tc(self.ns.device(uplink), "ingress", self.from_netdev)
        attach_tc(self.ns.device(HOST_DEVICE), "egress", self.from_host)
        if self.tunnel:
            attach_tc(self.ns.device(TUNNEL_DEVICE), "ingress", self.from_overlay)

    def add_endpoint(self, ip: IPv4Address, lxc: str, pod_mac: str) -> Endpoint:
        endpoint = Endpoint(next(self._endpoint_ids), ip, lxc, pod_mac)
        self.lxc.update(ip, endpoint)
        self.enforcement.add(endpoint.id)
        device = self.ns.device(lxc)
        attach_tc(device, "ingress", self.from_container)
        attach_tc(device, "egress", self.to_container)
        return endpoint

    def remove_endpoint(self, ip: IPv4Address) -> None:
        endpoint = self.lxc.lookup(ip)
        if endpoint is not None:
            self.enforcement.remove(endpoint.id)
        self.lxc.delete(ip)

    def set_identity(self, ip: IPv4Address, identity: int) -> None:
        """The agent resolved the endpoint's labels to `identity`."""
        endpoint = self.lxc.lookup(ip)
        if endpoint is not None and endpoint.identity != identity:
            self.lxc.update(ip, replace(endpoint, identity=identity))

    def endpoints(self) -> list[Endpoint]:
        return sorted(self.lxc.entries.values(), key=lambda endpoint: endpoint.id)

    # socket load balancing: the Service address is replaced before any packet exists

    def run_sock_connect(self, ctx: SockContext) -> Verdict:
        pkt = ctx.packet
        frontend, master = self._frontend(pkt, wildcard=pkt.dst in self.node_ips,
                                          in_cluster=True)
        if master is None:
            return Verdict("pass", pkt, f"{destination(pkt)} is no Service frontend: the "
                           "call goes ahead unchanged")
        if master.count == 0:
            return Verdict("reject", pkt, f"{frontend.text()} is a Service frontend with no "
                           "backends (count 0): the call fails with EHOSTUNREACH (No route "
                           "to host) and no packet is sent",
                           entry=Selection(frontend, master).entry(), errno="EHOSTUNREACH")
        # Cilium keys a socket's affinity by its network namespace (the netns cookie)
        chosen, how = self._pick(frontend, master, f"netns {ctx.ns.name}", ctx.now)
        backend = chosen.backend
        after = pkt.with_(dst=backend.address, dport=backend.port)
        self.reverse_sk.update((ctx.cookie, backend.address, backend.port),
                               (pkt.dst, pkt.dport, master.rev_nat))
        return Verdict("pass", after, f"{frontend.text()} is a Service frontend "
                       f"({master.count} backends): {how}, backend "
                       f"{backend.text()}; the socket connects to the backend itself, so no "
                       "packet ever carries the Service address and nothing is DNATed on "
                       "the way", entry=chosen.entry())

    def run_sock_reverse(self, ctx: SockContext) -> Verdict:
        """getpeername() and recvmsg(): the application sees the address it dialled."""
        address, port = ctx.peer
        found = self.reverse_sk.lookup((ctx.cookie, address, port))
        if found is None:
            return Verdict("pass", ctx.packet, f"the socket's peer {address}:{port} was not "
                           "translated: the application sees it as it is")
        service, service_port, rev_nat = found
        entry = f"{REVERSE_SK} cookie {ctx.cookie} {address}:{port} → {service}:{service_port} " \
                f"(revnat {rev_nat})"
        if ctx.hook == "recvmsg4":
            shown = ctx.packet.with_(src=service, sport=service_port)
            return Verdict("pass", shown, f"recvmsg() reports the datagram as from "
                           f"{service}:{service_port}, the Service the application sent to; on "
                           f"the wire it came from {address}:{port}", entry=entry)
        return Verdict("pass", ctx.packet, f"getpeername() answers {service}:{service_port}: "
                       "the application believes it talks to the Service, while its "
                       f"connection runs to {address}:{port}, so the reply needs no reverse "
                       "NAT on the wire", entry=entry)

    # the node's own devices

    def run_from_netdev(self, ctx: TcContext) -> Verdict:
        pkt = ctx.packet
        nat = self.snat.lookup(pkt, "IN")
        if nat is not None:
            return self._reply_of_nodeport(ctx, *nat)
        frontend, master = self._frontend(pkt, wildcard=self.ns.is_local(pkt.dst))
        if master is None:
            return Verdict("pass", pkt, f"{destination(pkt)} is no Service frontend and no "
                           "NAT entry matches: pass to the stack")
        if "non-routable" in master.flags:
            return Verdict("pass", pkt, f"{frontend.text()} is only served inside the cluster "
                           f"({', '.join(master.flags)}): pass to the stack untouched",
                           entry=Selection(frontend, master).entry())
        if master.count == 0:
            answer = Packet(pkt.dst, pkt.src, "icmp", icmp_type=ICMP_DEST_UNREACH,
                            icmp_code=PORT_UNREACHABLE, inner=pkt, length=pkt.length + 28)
            return Verdict("drop", pkt, f"{frontend.text()} has no backends on this path: "
                           "dropped as 'Service backend not found', and the program answers "
                           "ICMP port unreachable itself (service-no-backend-response=reject)",
                           entry=Selection(frontend, master).entry(), answer=answer)
        return self._nodeport(ctx, frontend, master)

    def _nodeport(self, ctx: TcContext, frontend: Frontend, master) -> Verdict:
        pkt = ctx.packet
        known = self.ct.find(pkt, kinds=("SVC",))
        chosen = None
        if known is not None:
            key, entry, _ = known
            self.ct.account(entry, pkt, ctx.now, reply=False)
            chosen = self.lb.backend_of(frontend, entry.backend_id)
        how = "the flow's SVC entry in cilium_ct4_global keeps its backend"
        if chosen is None:
            chosen, how = self._pick(frontend, master, str(pkt.src), ctx.now)
            self.ct.create(pkt, "SVC", ctx.now, rev_nat=master.rev_nat,
                           backend_id=chosen.backend_id)
        backend = chosen.backend
        dnat = pkt.with_(dst=backend.address, dport=backend.port)
        scope = "externalTrafficPolicy Local: only this node's backends are listed" \
            if "Local" in master.flags else "externalTrafficPolicy Cluster"
        if self.lxc.lookup(backend.address) is not None:
            self.ct.create(dnat, "IN", ctx.now, rev_nat=master.rev_nat, flags={"NodePort"})
            return Verdict("pass", dnat, f"{frontend.text()}: {how}, backend "
                           f"{backend.text()} runs on this node; DNAT only, the client "
                           f"{pkt.src} stays the source ({scope}); pass to the stack",
                           entry=chosen.entry())
        port = self._snat_port(dnat)
        out = dnat.with_(src=self.node_ip, sport=port)
        self.snat.bind(dnat, self.node_ip, port, ctx.now)
        self.ct.create(out, "OUT", ctx.now, rev_nat=master.rev_nat, flags={"NodePort"})
        hop = self._fib(out)
        if isinstance(hop, Verdict):
            return hop
        dev, nexthop, mac = hop
        return Verdict("redirect", out, f"{frontend.text()}: {how}, backend {backend.text()} "
                       f"is on another node; DNAT to it and SNAT to this node's "
                       f"{self.node_ip}:{port} ({scope}), so the reply comes back here to be "
                       f"undone; bpf_fib_lookup: redirect out {dev} to {nexthop}, past the "
                       "host's iptables", entry=chosen.entry() + f"; {NAT_MAP} OUT → "
                       f"XLATE_SRC {self.node_ip}:{port}", redirect=dev, dst_mac=mac)

    def _reply_of_nodeport(self, ctx: TcContext, key, nat) -> Verdict:
        pkt = ctx.packet
        restored = pkt.with_(dst=nat.address, dport=nat.port)
        entry_text = f"{NAT_MAP} " + SnatMap.text(key, nat, ctx.now)
        found = self.ct.find(pkt, kinds=("OUT",))
        service = None
        if found is not None:
            ct_key, ct_entry, _ = found
            self.ct.account(ct_entry, pkt, ctx.now, reply=True)
            service = self.lb.reverse_nat.lookup(ct_entry.rev_nat)
            if service is not None:
                restored = restored.with_(src=service.address, sport=service.port)
                entry_text += f"; {REVNAT} {ct_entry.rev_nat} → {service.address}:" \
                              f"{service.port}"
        hop = self._fib(restored)
        if isinstance(hop, Verdict):
            return hop
        dev, nexthop, mac = hop
        source = f"and {service.address}:{service.port} back as the source" if service else ""
        return Verdict("redirect", restored, f"reply of a NodePort flow: the SNAT entry gives "
                       f"the client {nat.address}:{nat.port} back as destination {source}; "
                       f"redirect out {dev} to {nexthop}", entry=entry_text, redirect=dev,
                       dst_mac=mac)

    def run_from_host(self, ctx: TcContext) -> Verdict:
        pkt = ctx.packet
        endpoint = self.lxc.lookup(pkt.dst)
        if endpoint is not None:
            return self._to_endpoint(pkt, endpoint, "the host has no route per pod")
        if self.tunnel:
            for prefix, node in self.tunnel_map.items():
                if pkt.dst in prefix:
                    identity, whose = self._sender_identity(pkt)
                    return Verdict("redirect", pkt, f"{pkt.dst} is in {prefix}, the pod CIDR "
                                   f"of node {node}: set the tunnel key to {node} with id "
                                   f"{identity}, {whose}, and redirect to {TUNNEL_DEVICE}, "
                                   "which wraps it in VXLAN with that VNI",
                                   entry=f"{TUNNEL_MAP} {prefix} → {node}",
                                   redirect=TUNNEL_DEVICE, dst_mac=ctx.dev.mac, tunnel=node,
                                   tunnel_id=identity, src_identity=identity)
        return Verdict("pass", pkt, f"{pkt.dst} is no endpoint on this node: pass")

    def _sender_identity(self, pkt: Packet) -> tuple[int, str]:
        """The identity a tunnelled packet carries: its source's; the host's own traffic
        goes as a remote node, which it is to the receiver (encap.h)."""
        identity = self.enforcement.ipcache.identity_of(pkt.src)
        if identity == HOST or self.ns.is_local(pkt.src):
            return REMOTE_NODE, f"this node's traffic is identity {REMOTE_NODE} (remote-node) " \
                                "to the receiver"
        return identity, f"the security identity of {pkt.src}"

    def run_from_overlay(self, ctx: TcContext) -> Verdict:
        """What leaves the tunnel on this node goes straight to its pod, the VNI (the
        sender's identity) written into the skb mark for the endpoint's ingress policy."""
        pkt = ctx.packet
        endpoint = self.lxc.lookup(pkt.dst)
        if endpoint is None:
            return Verdict("pass", pkt, f"{pkt.dst} is no endpoint on this node: pass to the "
                           "stack")
        if ctx.tunnel_id is None:
            return self._to_endpoint(pkt, endpoint, "out of the tunnel")
        mark = identity_mark(ctx.tunnel_id)
        return self._to_endpoint(pkt, endpoint, f"out of the tunnel; the tunnel key's id "
                                 f"{ctx.tunnel_id} is the source's security identity, kept in "
                                 f"the skb mark 0x{mark:08x}", mark=mark,
                                 src_identity=ctx.tunnel_id)

    @staticmethod
    def _to_endpoint(pkt: Packet, endpoint: Endpoint, why: str, **extra) -> Verdict:
        return Verdict("redirect", pkt, f"{pkt.dst} is local endpoint {endpoint.id}: redirect "
                       f"to {endpoint.lxc}, {why}", entry=endpoint.text(),
                       redirect=endpoint.lxc, dst_mac=endpoint.mac, **extra)

    def tunnel_list(self) -> str:
        """`cilium bpf tunnel list`."""
        rows = [["TUNNEL", "VALUE"]] + [[f"{prefix.network_address}:0", f"{node}:0"]
                                        for prefix, node in sorted(self.tunnel_map.items())]
        return tabwrite(rows)

    # the pods' host-side veths

    def run_from_container(self, ctx: TcContext) -> Verdict:
        pkt = ctx.packet
        found = self.ct.lookup(pkt, "OUT", "IN")
        endpoint = self.lxc.lookup(pkt.src)
        check = None
        if (found is None or not found[2]) and endpoint is not None:
            check = self.enforcement.egress(endpoint.id, endpoint.identity, pkt)
            if not check.allowed:
                return self._denied(pkt, check)
        if found is None:
            key, entry = self.ct.create(pkt, "OUT", ctx.now)
            return self._allowed(pkt, check, "a new flow from the pod: an OUT entry in "
                                 f"{CT_MAP}; pass to the stack", f"{CT_MAP} {entry.text(key)}",
                                 new=True)
        key, entry, reply = found
        self.ct.account(entry, pkt, ctx.now, reply)
        if reply and "NodePort" in entry.flags and entry.rev_nat:
            service = self.lb.reverse_nat.lookup(entry.rev_nat)
            if service is not None:
                after = pkt.with_(src=service.address, sport=service.port)
                return Verdict("pass", after, "reply of a NodePort or LoadBalancer flow this "
                               f"pod serves: reverse NAT puts {service.address}:{service.port} "
                               "back as the source before the stack sees it",
                               entry=f"{CT_MAP} {entry.text(key)}; {REVNAT} {entry.rev_nat} → "
                                     f"{service.address}:{service.port}")
        if reply:
            return Verdict("pass", pkt, f"a known flow (reply, {key.kind} entry): replies pass "
                           "without a policy lookup; pass to the stack",
                           entry=f"{CT_MAP} {entry.text(key)}")
        return self._allowed(pkt, check, f"a known flow (original direction, {key.kind} "
                             "entry): pass to the stack", f"{CT_MAP} {entry.text(key)}")

    def run_to_container(self, ctx: TcContext) -> Verdict:
        pkt = ctx.packet
        found = self.ct.lookup(pkt, "IN", "OUT")
        endpoint = self.lxc.lookup(pkt.dst)
        check = None
        if (found is None or not found[2]) and endpoint is not None:
            check = self.enforcement.ingress(endpoint.id, endpoint.identity, pkt, ctx.mark)
            if not check.allowed:
                return self._denied(pkt, check)
        if found is None:
            key, entry = self.ct.create(pkt, "IN", ctx.now,
                                        source_identity=check.src_identity if check else 0)
            return self._allowed(pkt, check, f"a new flow into the pod: an IN entry in "
                                 f"{CT_MAP}", f"{CT_MAP} {entry.text(key)}", new=True)
        key, entry, reply = found
        self.ct.account(entry, pkt, ctx.now, reply)
        if reply:
            return Verdict("pass", pkt, f"a known flow (reply, {key.kind} entry): replies pass "
                           "without a policy lookup; into the pod",
                           entry=f"{CT_MAP} {entry.text(key)}")
        return self._allowed(pkt, check, f"a known flow (original direction, {key.kind} "
                             "entry): into the pod", f"{CT_MAP} {entry.text(key)}")

    @staticmethod
    def _denied(pkt: Packet, check: Check) -> Verdict:
        return Verdict("drop", pkt, check.detail, entry=check.entry,
                       drop_reason=check.reason, src_identity=check.src_identity,
                       dst_identity=check.dst_identity,
                       policy_verdict=check.match and f"{check.match} {check.direction} DENIED")

    @staticmethod
    def _allowed(pkt: Packet, check: Check | None, what: str, ct_entry: str,
                 new: bool = False) -> Verdict:
        if check is None:
            return Verdict("pass", pkt, what, entry=ct_entry)
        # the datapath notifies a policy verdict for a new connection only
        verdict = f"{check.match} {check.direction} ALLOWED" if new and check.match else None
        return Verdict("pass", pkt, f"{check.detail}; {what}", entry=f"{check.entry}; {ct_entry}",
                       src_identity=check.src_identity, dst_identity=check.dst_identity,
                       policy_verdict=verdict)

    # helpers

    def _frontend(self, pkt: Packet, wildcard: bool, in_cluster: bool = False):
        """The frontend a packet is for; from inside the cluster, a two-scopes frontend
        switches to its internal twin, which lists every backend."""
        if pkt.proto not in ("tcp", "udp"):
            return None, None
        frontend = Frontend(pkt.dst, pkt.dport, pkt.proto.upper())
        master = self.lb.master(frontend)
        if master is None and wildcard:  # a NodePort on any of the node's addresses
            surrogate = Frontend(ANY, pkt.dport, pkt.proto.upper())
            found = self.lb.master(surrogate)
            if found is not None and "NodePort" in found.flags:
                frontend, master = surrogate, found
        if master is not None and in_cluster and "two-scopes" in master.flags:
            twin = self.lb.master(frontend.internal())
            if twin is not None:
                return frontend.internal(), twin
        return frontend, master

    def _pick(self, frontend: Frontend, master, client: str, now: float):
        """A backend for a new flow: the one the client had, under session affinity,
        else a slot at random. Returns it and how it was chosen."""
        key = (client, master.rev_nat)
        sticky = "sessionAffinity" in master.flags
        if sticky:
            found = self.affinity.lookup(key)
            if found is not None and now - found[1] <= AFFINITY_SECONDS:
                for slot in range(1, master.count + 1):
                    chosen = self.lb.select(frontend, slot)
                    if chosen.backend_id == found[0]:
                        self.affinity.update(key, (found[0], now))
                        return chosen, (f"{AFFINITY_MAP} sends {client} back to backend "
                                        f"{found[0]} (slot {slot})")
        slot = self.rng.randrange(master.count) + 1
        chosen = self.lb.select(frontend, slot)
        how = f"slot {slot} picked at random"
        if sticky:
            self.affinity.update(key, (chosen.backend_id, now))
            how += f", remembered for {client} in {AFFINITY_MAP}"
        return chosen, how

    def _snat_port(self, pkt: Packet) -> int:
        port = pkt.sport
        for _ in range(64):
            if port in NAT_PORTS and not self.snat.taken(pkt.proto, self.node_ip, port):
                return port
            port = self.rng.randrange(NAT_PORTS.start, NAT_PORTS.stop)
        return port

    def _fib(self, pkt: Packet):
        """bpf_fib_lookup and the neighbour it names, or the drop when there is none."""
        result = self.ns.route_lookup(pkt.dst, pkt)
        if result is None or result.dev is None or result.route.type != "unicast":
            return Verdict("drop", pkt, f"bpf_fib_lookup finds no route to {pkt.dst}: dropped")
        nexthop = result.gateway or pkt.dst
        answer = l2.resolve(self.ns, self.ns.device(result.dev), nexthop)
        if answer is None:
            return Verdict("drop", pkt, f"no neighbour answers for {nexthop}: dropped")
        return result.dev, nexthop, answer[0]


def destination(pkt: Packet) -> str:
    """Where a packet goes, as a frontend would be written (ICMP has no port)."""
    if pkt.proto in ("tcp", "udp"):
        return f"{pkt.dst}:{pkt.dport}/{pkt.proto.upper()}"
    return f"{pkt.dst} ({pkt.proto.upper()})"


def router_ip(pod_cidr: IPv4Network) -> IPv4Address:
    """cilium_host's address: the first of the node's pod CIDR in this model."""
    return pod_cidr.network_address + 1
