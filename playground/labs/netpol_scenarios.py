"""The NetworkPolicy labs' objects: a shop namespace behind policies, the manifests the
lessons apply (make_saves writes them to saves/), and the policy a break-fix lab starts with."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.lab import web
from playground.cluster.netpol.model import NetworkPolicy, NetworkPolicySpec
from playground.cluster.netpol.selectors import LabelSelector
from playground.cluster.objects import ObjectMeta
from playground.cluster.service import ServicePort

MANIFESTS = {
    "netpol-deny-shop.yaml": """\
# Default deny: every pod of namespace shop is isolated for ingress, and no rule allows any.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
""",
    "netpol-allow-frontend.yaml": """\
# Then let in the pods of namespace frontend, on the api's port only.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
    ports:
    - port: 80
""",
    "netpol-or.yaml": """\
# Meant: pods labelled app=web in namespace frontend. Two peers: namespace frontend OR any
# pod labelled app=web in shop's own namespace... and the list dash makes it OR.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
    - podSelector: {matchLabels: {app: web}}
""",
    "netpol-and.yaml": """\
# One peer with both selectors: pods labelled app=web AND in namespace frontend.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
      podSelector: {matchLabels: {app: web}}
""",
    "netpol-service-port.yaml": """\
# Written against the Service: svc/api listens on 8080. But policies see the packet after
# kube-proxy's DNAT, at the pod's port 80, so this lets no one in.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
    ports:
    - port: 8080
""",
    "netpol-pod-port.yaml": """\
# The same, against the pod's container port (by its name; 80 would do as well).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}
    ports:
    - port: http
""",
    "netpol-deny-egress.yaml": """\
# Egress deny-all for namespace frontend: no pod of it may open any connection, DNS too.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: frontend}
spec:
  podSelector: {}
  policyTypes: [Egress]
""",
    "netpol-allow-dns.yaml": """\
# Let frontend's pods ask the cluster DNS again: UDP and TCP 53 to kube-system's kube-dns.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: frontend}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
""",
}


async def shop_and_frontend(cluster: Cluster) -> None:
    """shop/api behind policies; frontend/web and frontend/batch call it; shop/web is a
    shop pod with the label the frontend's web pods have."""
    for namespace in ("shop", "frontend"):
        await cluster.add_namespace(namespace)
    await cluster.add_pod("api", web("api"), namespace="shop", labels={"app": "api"})
    await cluster.add_pod("web", web(), namespace="shop", labels={"app": "web"})
    await cluster.add_pod("web", web(), namespace="frontend", labels={"app": "web"})
    await cluster.add_pod("batch", web("batch"), namespace="frontend", labels={"app": "batch"})
    await cluster.add_service("api", [ServicePort(8080, "http", name="http")],
                              namespace="shop", selector={"app": "api"})


async def deny_all_on_bridge(cluster: Cluster) -> None:
    """The break-fix lab: a default deny in default, on a CNI that enforces nothing."""
    await cluster.add_network_policy(NetworkPolicy(
        ObjectMeta("deny-all", "default"),
        NetworkPolicySpec(LabelSelector(), policy_types=["Ingress"])))
