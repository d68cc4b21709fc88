"""The Policy tab: the reachability matrix of the selection's namespace, with the cells the
last policy change turned starred (as the e2e tests star a changed cell)."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.netpol.reach import matrix, truth_table
from playground.cluster.netpol.view import PolicyView

MOST_PODS = 24   # a wider table than this says so instead of drawing


def selection_namespace(cluster: Cluster, spec: str | None) -> str:
    """pod/NS/NAME and netpol/NS/NAME name their namespace; anything else: default."""
    kind, _, rest = (spec or "").partition("/")
    namespace, _, _name = rest.rpartition("/")
    return namespace if kind in ("pod", "netpol", "svc", "deploy") and namespace else "default"


def policy_port(cluster: Cluster, spec: str | None) -> tuple[str, int]:
    """The first numbered port of a selected policy's rules, else TCP 80."""
    kind, _, rest = (spec or "").partition("/")
    namespace, _, name = rest.rpartition("/")
    policy = cluster.api.peek("NetworkPolicy", namespace, name) if kind == "netpol" else None
    for rule in (policy.spec.ingress + policy.spec.egress) if policy else []:
        for port in rule.ports:
            if isinstance(port.port, int):
                return port.protocol, port.port
    return "TCP", 80


class PolicyPanel:
    """Remembers the policies before the last change (None: not known, the app opened with
    them) to star the cells that change turned."""

    def __init__(self) -> None:
        self.version: tuple | None = None   # the policies now, by key and resourceVersion
        self.before: list | None = None     # the policies before the last change

    def text(self, cluster: Cluster, spec: str | None) -> str | None:
        """The tab's text; None while the lab has no NetworkPolicy (the tab is not offered)."""
        policies = cluster.api.list("NetworkPolicy")
        version = tuple((p.key, p.metadata.resource_version) for p in policies)
        if version != self.version:
            self.before = None if self.version is None else self.current
            self.version, self.current = version, policies
        if not policies:
            return None
        namespace = selection_namespace(cluster, spec)
        protocol, port = policy_port(cluster, spec)
        view = PolicyView.from_api(cluster.api)
        pods = [p for p in view.pods if p.namespace == namespace]
        head = (f"# reachability {protocol}/{port} in namespace {namespace}: rows connect to "
                "columns; . allowed, X denied, *X* turned by the last policy change\n")
        if not cluster.policy.enforces:
            head += (f"# the {cluster.cni.name} CNI enforces no NetworkPolicy: this is what "
                     "the policies say, not what the packets do\n")
        if not pods:
            return head + f"(no pods with an address in {namespace})\n"
        if len(pods) > MOST_PODS:
            return head + (f"({len(pods)} pods: too many to draw; `k8s-playground reach -n "
                           f"{namespace}` prints the table)\n")
        found = matrix(view, protocol, port, [namespace])
        changed: set = set()
        if self.before is not None:
            earlier = PolicyView(list(self.before), view.namespaces, view.pods)
            changed = set(found.changed(matrix(earlier, protocol, port, [namespace])))
        return head + truth_table(found, changed)
