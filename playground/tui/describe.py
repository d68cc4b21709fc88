"""A few plain lines about the selected object, for the Object tab."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.netpol.describe import describe as describe_policy
from playground.cluster.netpol.view import PolicyView
from playground.cluster.service import slices_of


def describe(cluster: Cluster, spec: str | None) -> str:
    if not spec:
        return ""
    kind, _, rest = spec.partition("/")
    namespace, _, name = rest.rpartition("/")
    if kind == "node":
        node = cluster.api.peek("Node", "", rest)
        if node is None:
            return ""
        notes = "".join(f"\n    {key}: {value}"
                        for key, value in sorted(node.metadata.annotations.items()))
        return (f"Node {node.name}\n  InternalIP  {node.status.internal_ip}\n"
                f"  ExternalIP  {node.status.external_ip}\n  PodCIDR     {node.spec.pod_cidr}\n"
                f"  Roles       {node.roles}\n  Taints      "
                + (", ".join(f"{t.key}:{t.effect}" for t in node.spec.taints) or "<none>")
                + (f"\n  Annotations{notes}" if notes else ""))
    if kind == "pod":
        pod = cluster.api.peek("Pod", namespace, name)
        if pod is None:
            return ""
        lines = [f"Pod {pod.key}", f"  Node    {pod.spec.node_name}",
                 f"  IP      {pod.status.pod_ip}", f"  Status  {pod.status.phase}",
                 "  Labels  " + ",".join(f"{k}={v}" for k, v in pod.metadata.labels.items())]
        for container in pod.spec.containers:
            ports = ", ".join(f"{p.container_port}/{p.protocol}" + (f" ({p.name})" if p.name
                                                                     else "")
                              for p in container.ports) or "no ports"
            lines.append(f"  container {container.name}: {container.image}, {ports}")
        return "\n".join(lines)
    if kind == "svc":
        service = cluster.api.peek("Service", namespace, name)
        if service is None:
            return ""
        endpoints = ", ".join(e.address for s in slices_of(cluster.api, namespace, name)
                              for e in s.endpoints) or "<none>"
        ports = ", ".join(f"{p.name or '-'} {p.port}->{p.target_port or p.port}/{p.protocol}"
                          + (f" nodePort {p.node_port}" if p.node_port else "")
                          for p in service.spec.ports)
        return (f"Service {service.key} ({service.spec.type})\n"
                f"  ClusterIP   {service.spec.cluster_ip}\n"
                f"  External    {', '.join(service.status.load_balancer_ips) or '<none>'}\n"
                f"  Ports       {ports}\n"
                "  Selector    " + ",".join(f"{k}={v}" for k, v in
                                           service.spec.selector.items()) + "\n"
                f"  Endpoints   {endpoints or '<none>'}\n"
                f"  Traffic     external {service.spec.external_traffic_policy}, internal "
                f"{service.spec.internal_traffic_policy}, affinity "
                f"{service.spec.session_affinity}\n\n"
                f"  try: trace pod/client svc/{service.key}")
    if kind == "deploy":
        deployment = cluster.api.peek("Deployment", namespace, name)
        if deployment is None:
            return ""
        pods = ", ".join(p.name for p in cluster.owned_pods(deployment))
        return (f"Deployment {deployment.key}\n  Replicas  {deployment.replicas}\n"
                f"  Pods      {pods}")
    if kind == "ing":
        ingress = cluster.api.peek("Ingress", namespace, name)
        if ingress is None:
            return ""
        lines = [f"Ingress {ingress.key}"]
        for rule in ingress.rules:
            for path in rule.paths:
                lines.append(f"  {rule.host or '*'}{path.path} ({path.path_type}) -> "
                             f"{path.backend.service}:{path.backend.port}")
        return "\n".join(lines)
    if kind == "netpol":
        policy = cluster.api.peek("NetworkPolicy", namespace, name)
        if policy is None:
            return ""
        return describe_policy(policy, PolicyView.from_api(cluster.api),
                               cluster.policy.status(), cluster.cni.name).rstrip("\n")
    return f"{spec}: outside the cluster"
