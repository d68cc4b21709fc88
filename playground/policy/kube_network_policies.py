"""kube-network-policies as kind's kindnetd runs it (v0.6.0's controller, QueueID 100,
FailOpen): on every node an `inet kube-network-policies` table whose postrouting chain,
just before SNAT, sends the first packet of a connection from or to a local pod that a
policy selects to NFQUEUE 100; the program bound there evaluates the policies of both
ends (egress of the source, ingress of the destination) and answers accept or drop."""

from __future__ import annotations

from playground.cluster.controllers.base import Controller
from playground.cluster.netpol.engine import PolicyEngine
from playground.cluster.netpol.evaluate import decide, selects
from playground.cluster.netpol.view import Peer, PolicyView
from playground.net.netns import Namespace
from playground.net.nfqueue import QueueVerdict

FAMILY, TABLE = "inet", "kube-network-policies"
QUEUE_ID = 100          # kindnetd's networkpolicy.Config
FAIL_OPEN = True        # kindnetd's too: `queue ... bypass` and NFQA_CFG_F_FAIL_OPEN
POD_SET = "podips-v4"   # the lab is IPv4 only: the podips-v6 set and ip6 rules are left out
PRIORITY = "srcnat - 5"  # after DNAT, before SNAT; POSTROUTING sees IPVS' packets too
PORTED = ("tcp", "udp", "sctp")


class KubeNetworkPolicies(PolicyEngine):
    name = "kube-network-policies"

    def node_agents(self, node: str, ns: Namespace) -> list:
        return [KnpAgent(self.wiring.api, node, ns)]


def table_lines(addresses: list[str], first: bool) -> list[str]:
    """syncNFTablesRules' transaction: the whole table, flushed and written again (the
    first sync deletes whatever a previous run left)."""
    t = f"{FAMILY} {TABLE}"
    action = f"queue num {QUEUE_ID}" + (" bypass" if FAIL_OPEN else "")
    lines = [f"add table {t} {{ comment \"rules for kubernetes NetworkPolicy\" ; }}"]
    if first:
        lines += [f"delete table {t}", lines[0]]
    lines += [f"add set {t} {POD_SET} {{ type ipv4_addr ; comment \"Local V4 Pod IPs with "
              "Network Policies\" ; }", f"flush set {t} {POD_SET}"]
    if addresses:
        lines.append(f"add element {t} {POD_SET} {{ {', '.join(addresses)} }}")
    comment = 'comment "process IPv4 traffic with network policy enforcement"'
    lines += [f"add chain {t} postrouting {{ type filter hook postrouting priority "
              f"{PRIORITY} ; }}", f"flush chain {t} postrouting",
              f"add rule {t} postrouting meta skuid 0 accept",
              f"add rule {t} postrouting ct state established,related accept",
              f"add rule {t} postrouting ip saddr @{POD_SET} {action} {comment}",
              f"add rule {t} postrouting ip daddr @{POD_SET} {action} {comment}"]
    return lines


def isolated_local_addresses(api, node: str) -> list[str]:
    """getLocalPodsForNetworkPolicy over every policy: this node's pods that some policy's
    podSelector picks, in either direction (hostNetwork ones too, as the real one does)."""
    policies = list(api.list("NetworkPolicy"))
    found = set()
    for pod in api.indexed("Pod", "node", node):
        ip = pod.status.pod_ip
        if not ip or pod.terminating:
            continue
        peer = Peer(ip, pod.metadata.namespace, pod.metadata.name,
                    tuple(sorted(pod.metadata.labels.items())))
        if any(selects(policy, peer) for policy in policies):
            found.add(ip)
    return sorted(found, key=lambda a: tuple(int(o) for o in a.split(".")))


class KnpAgent(Controller):
    """The controller on one node: it rewrites the table when policies or pods change
    and serves the node's queue."""

    def __init__(self, api, node: str, ns: Namespace) -> None:
        super().__init__()
        self.api, self.node, self.ns = api, node, ns
        self.name = f"kube-network-policies/{node}"
        self.sent: list[str] | None = None
        self.program = PolicyProgram(api)

    def start(self) -> None:
        self.ns.bind_queue(QUEUE_ID, self.program)
        self.sync()
        for kind in ("NetworkPolicy", "Namespace"):
            self.follow(self.api.watch(kind, replay=False), self.changed)
        self.follow(self.api.watch("Pod", node=self.node, replay=False), self.changed)

    def changed(self, _event) -> None:
        self.enqueue(("sync",))

    def sync(self, *_key) -> None:
        addresses = isolated_local_addresses(self.api, self.node)
        if addresses == self.sent:
            return
        self.ns.nft.run("\n".join(table_lines(addresses, self.sent is None)) + "\n")
        self.sent = addresses

    async def stop(self) -> None:
        self.ns.unbind_queue(QUEUE_ID)
        await super().stop()


class PolicyProgram:
    """The userspace side of the queue: evaluatePacket over the API's state (the
    informers' caches), egress of the source pod then ingress of the destination pod."""

    name = "kube-network-policies"

    def __init__(self, api) -> None:
        self.api = api
        self._view: tuple[int, PolicyView] | None = None

    def __deepcopy__(self, memo) -> PolicyProgram:
        return self   # a process outside the network: a copied lab asks the same one

    def view(self) -> PolicyView:
        """The informers' caches: the API's state, read again once something changed."""
        version = self.api.resource_version
        if self._view is None or self._view[0] != version:
            self._view = (version, PolicyView.from_api(self.api))
        return self._view[1]

    def verdict(self, ns_name: str, packet, hook: str, in_dev, out_dev) -> QueueVerdict:
        view = self.view()
        src, dst = view.peer_at(packet.src), view.peer_at(packet.dst)
        # parsePacket reads ports of TCP, UDP and SCTP only; anything else has port 0
        port = packet.dport if packet.proto in PORTED else 0
        decision = decide(view, src, dst, packet.proto.upper(), port)
        return QueueVerdict("accept" if decision.allowed else "drop",
                            f"{src} → {dst} {packet.proto.upper()} {port}: {decision.why}",
                            self.name)
