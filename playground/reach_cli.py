"""`k8s-playground reach`: the pods x pods truth table of the lab's NetworkPolicies, and with
--why the deciding policies of one cell."""

from __future__ import annotations

import json

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.netpol.evaluate import Decision, decide
from playground.cluster.netpol.reach import matrix, to_dict, truth_table
from playground.cluster.netpol.view import Peer, PolicyView
from playground.numbers import PORT

# the cluster's own pods (CoreDNS) are left out unless asked for with -n
HIDDEN = {"kube-system", "kube-public", "kube-node-lease"}


def add_arguments(reach) -> None:
    reach.add_argument("--port", type=PORT, default=80,
                       help="destination port, the pods' own (after DNAT) (default: 80)")
    reach.add_argument("--proto", choices=["tcp", "udp", "sctp"], default="tcp")
    reach.add_argument("--why", nargs=2, metavar=("SRC", "DST"),
                       help="the policies that decide one cell: pod NAME or NS/NAME")
    reach.add_argument("--json", action="store_true", help="print the matrix as JSON")


def namespaces_of(cluster: Cluster, view: PolicyView, chosen: str | None) -> list[str]:
    if chosen is not None:
        cluster.check_namespace(chosen)
        return [chosen]
    return sorted({pod.namespace for pod in view.pods} - HIDDEN)


def run(cluster: Cluster, args) -> int:
    view = PolicyView.from_api(cluster.api)
    engine = cluster.policy
    protocol = args.proto.upper()
    if args.why:
        src, dst = (pod_peer(view, name, args.namespace) for name in args.why)
        print(why_text(decide(view, src, dst, protocol, args.port), src, dst, protocol,
                       args.port, engine, cluster.cni.name), end="")
        return 0
    found = matrix(view, protocol, args.port, namespaces_of(cluster, view, args.namespace))
    if args.json:
        print(json.dumps({**to_dict(found, engine.enforces), "engine": engine.name},
                         indent=2))
        return 0
    count = len(view.policies)
    print(f"reachability {protocol}/{args.port}: rows connect to columns; . allowed, X denied "
          f"({count} NetworkPolic{'y' if count == 1 else 'ies'})")
    if not engine.enforces:
        for key in found.cells:   # what the dataplane does: nothing is held back
            found.cells[key] = Decision(True, found.cells[key].egress,
                                        found.cells[key].ingress)
        print(f"the {cluster.cni.name} CNI enforces no NetworkPolicy: every cell is allowed "
              "whatever the policies say (`--why` says what they would decide)")
    print(truth_table(found), end="")
    return 0


def pod_peer(view: PolicyView, name: str, namespace: str | None) -> Peer:
    ns, _, pod = name.rpartition("/")
    ns = ns or namespace or "default"
    found = view.pod(ns, pod.removeprefix("pod/"))
    if found is None:
        raise ClusterError(f'pod "{pod}" not found in namespace "{ns}" (or it has no address)')
    return found


def why_text(decision: Decision, src: Peer, dst: Peer, protocol: str, port: int, engine,
             cni: str) -> str:
    verdict = "allowed" if decision.allowed else "denied"
    lines = [f"{src} -> {dst} {protocol}/{port}: {verdict}"]
    lines.append(f"  egress at {src}: {decision.egress.why}")
    lines.append(f"  ingress at {dst}: {decision.ingress.why}")
    if not engine.enforces and not decision.allowed:
        lines.append(f"  but the {cni} CNI enforces no NetworkPolicy: the connection is "
                     "delivered")
    return "\n".join(lines) + "\n"


__all__ = ["add_arguments", "run"]
