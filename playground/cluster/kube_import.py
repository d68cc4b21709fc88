"""A real cluster's `kubectl get -o yaml` output as the lab's API objects: nodes with their
names, InternalIPs and pod CIDRs, pods with their addresses on their nodes, Services with
their cluster IPs and node ports; and one note per thing that could not come along."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network

from playground.cluster.manifest_apply import ManifestDoc, _containers, _tolerations
from playground.cluster.objects import (
    KubeNamespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    Taint,
)
from playground.cluster.service import (
    CONTROLLER_NAME,
    MANAGED_BY,
    Service,
    ServicePort,
    ServiceSpec,
    ServiceStatus,
)

# kinds rebuilt here with the addresses they had; the others go through the kinds table
REBUILT = ("Node", "Pod", "Service", "Namespace")
# kinds a controller makes again from the ones above
DERIVED = {"EndpointSlice": "made again by the EndpointSlice controller from the Services "
                            "and pods",
           "Endpoints": "made again from the Services and pods"}
LAB_NAMESPACES = ("default",)   # what a fresh lab has already


@dataclass
class Imported:
    objects: list = field(default_factory=list)
    applied: list[tuple[str, dict]] = field(default_factory=list)   # through the kinds table
    notes: list[str] = field(default_factory=list)
    cluster_cidr: str = ""
    node_cidr_mask: int = 24


def _meta(doc: ManifestDoc, order: int, namespaced: bool = True) -> ObjectMeta:
    return ObjectMeta(doc.get("metadata.name", str, ""),
                      doc.get("metadata.namespace", str, "default") if namespaced else "",
                      labels=doc.labels("metadata.labels"),
                      annotations=doc.labels("metadata.annotations"),
                      uid=f"imported-{order}", created_at=0.0)


def node_record(doc: ManifestDoc, order: int) -> Node:
    addresses = {a.get("type"): a.get("address") for _, a in doc.entries("status.addresses")}
    taints = [Taint(t.get("key", ""), t.get("value", "") or "", t.get("effect", ""))
              for _, t in doc.entries("spec.taints")]
    return Node(_meta(doc, order, namespaced=False),
                NodeSpec(doc.get("spec.podCIDR", str), taints),
                NodeStatus(addresses.get("InternalIP"), addresses.get("ExternalIP"), True))


def pod_record(doc: ManifestDoc, order: int) -> Pod:
    meta = _meta(doc, order)
    spec = PodSpec(_containers(doc, "spec.containers"), doc.get("spec.nodeName", str),
                   _tolerations(doc, "spec.tolerations"),
                   node_selector=doc.labels("spec.nodeSelector"),
                   hostname=doc.get("spec.hostname", str, ""),
                   subdomain=doc.get("spec.subdomain", str, ""),
                   host_network=doc.get("spec.hostNetwork", bool, False))
    phase = "Running" if spec.node_name else "Pending"
    return Pod(meta, spec, PodStatus(phase, doc.get("status.podIP", str),
                                     doc.get("status.hostIP", str)))


def service_record(doc: ManifestDoc, order: int) -> Service:
    ports = [ServicePort(doc.get("port", int, 0, p, w),
                         doc.get("targetPort", (int, str), None, p, w),
                         doc.get("protocol", str, "TCP", p, w), doc.get("name", str, None, p, w),
                         doc.get("nodePort", int, None, p, w))
             for w, p in doc.entries("spec.ports")]
    kind = doc.get("spec.type", str, "ClusterIP")
    spec = ServiceSpec(ports, doc.labels("spec.selector"), kind, doc.get("spec.clusterIP", str),
                       session_affinity=doc.get("spec.sessionAffinity", str, "None"),
                       external_name=doc.get("spec.externalName", str, ""),
                       external_ips=[str(a) for a in doc.get("spec.externalIPs", list, [])])
    if kind in ("NodePort", "LoadBalancer"):
        spec.external_traffic_policy = doc.get("spec.externalTrafficPolicy", str, "Cluster")
    spec.internal_traffic_policy = doc.get("spec.internalTrafficPolicy", str, "Cluster")
    return Service(_meta(doc, order), spec, ServiceStatus())


def convert(documents: list[tuple[str, dict]], known_kinds: set[str]) -> Imported:
    """The records and notes of kubectl's output; `known_kinds`: what the kinds table has."""
    found = Imported()
    skipped: dict[str, int] = {}
    for order, (where, data) in enumerate(documents):
        doc, kind = ManifestDoc(where, data), data.get("kind")
        name = f"{str(kind).lower()} {data.get('metadata', {}).get('namespace', '') or ''}" \
               f"/{data.get('metadata', {}).get('name', '')}".replace(" /", " ")
        if kind == "Node":
            found.objects.append(node_record(doc, order))
        elif kind == "Pod":
            pod = pod_record(doc, order)
            if data.get("metadata", {}).get("ownerReferences"):
                skipped["owner"] = skipped.get("owner", 0) + 1
            found.objects.append(pod)
        elif kind == "Service":
            service = service_record(doc, order)
            lb = [i.get("ip") for i in (data.get("status", {}).get("loadBalancer", {})
                                        .get("ingress") or []) if i.get("ip")]
            if lb:
                found.notes.append(f"{name}: its load balancer address {', '.join(lb)} is the "
                                   "real cloud's; the lab's cloud gives it one of its own")
            found.objects.append(service)
        elif kind == "Namespace":
            if doc.get("metadata.name", str, "") not in LAB_NAMESPACES:
                found.objects.append(KubeNamespace(_meta(doc, order, namespaced=False)))
        elif kind == "EndpointSlice" and (data.get("metadata", {}).get("labels") or {}).get(
                MANAGED_BY) != CONTROLLER_NAME and kind in known_kinds:
            found.applied.append((where, data))   # kept by hand (the API server's own one)
        elif kind in DERIVED:
            skipped[kind] = skipped.get(kind, 0) + 1
        elif kind in known_kinds:
            found.applied.append((where, data))
        else:
            found.notes.append(f"{name}: kind {kind} is not modelled yet")
    if skipped.get("owner"):
        found.notes.append(f"pods: {skipped.pop('owner')} have owners (ReplicaSets, "
                           "DaemonSets...) that are not in the input; imported as bare pods")
    for kind, count in skipped.items():
        found.notes.append(f"{kind.lower()}: {count} not imported, {DERIVED[kind]}")
    _namespaces(found)
    _cidrs(found)
    return found


def _namespaces(found: Imported) -> None:
    """Every namespace a pod or Service is in, made when the input lists none."""
    have = {o.name for o in found.objects if o.kind == "Namespace"} | set(LAB_NAMESPACES)
    for obj in list(found.objects):
        ns = obj.metadata.namespace
        if obj.kind in ("Pod", "Service") and ns not in have:
            have.add(ns)
            found.objects.insert(0, KubeNamespace(ObjectMeta(ns, uid=f"imported-ns-{ns}")))


def _cidrs(found: Imported) -> None:
    """The cluster CIDR: the smallest range holding every node's spec.podCIDR (a /16 at
    least, as kubeadm's --cluster-cidr usually is)."""
    cidrs = [IPv4Network(n.spec.pod_cidr) for n in found.objects
             if n.kind == "Node" and n.spec.pod_cidr]
    if not cidrs:
        return
    found.node_cidr_mask = max(c.prefixlen for c in cidrs)
    merged = cidrs[0].supernet(new_prefix=min(16, cidrs[0].prefixlen))
    while not all(c.subnet_of(merged) for c in cidrs):
        merged = merged.supernet()
    found.cluster_cidr = str(merged)
