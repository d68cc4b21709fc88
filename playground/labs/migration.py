"""An Ingress written again as Gateway API objects, as ingress2gateway translates one: a
Gateway of Envoy Gateway's class with an HTTP listener on 80, and one HTTPRoute per host
whose rules keep the paths and backends (Prefix becomes PathPrefix)."""

from __future__ import annotations

import yaml

from playground.cluster.gateway.objects import V1
from playground.cluster.ingress import Ingress
from playground.gateway.envoy_gateway import EnvoyGateway

PATH_TYPES = {"Prefix": "PathPrefix", "Exact": "Exact", "ImplementationSpecific": "PathPrefix"}


def gateway_documents(ingress: Ingress, gateway: str = "sites") -> list[dict]:
    namespace = ingress.metadata.namespace
    documents = [
        {"apiVersion": V1, "kind": "GatewayClass", "metadata": {"name": "eg"},
         "spec": {"controllerName": EnvoyGateway.name}},
        {"apiVersion": V1, "kind": "Gateway",
         "metadata": {"name": gateway, "namespace": namespace},
         "spec": {"gatewayClassName": "eg",
                  "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}}]
    for rule in ingress.rules:
        host = rule.host or "any"
        spec: dict = {"parentRefs": [{"name": gateway}]}
        if rule.host:
            spec["hostnames"] = [rule.host]
        spec["rules"] = [{"matches": [{"path": {"type": PATH_TYPES[p.path_type],
                                                "value": p.path}}],
                          "backendRefs": [{"name": p.backend.service, "port": p.backend.port}]}
                         for p in rule.paths]
        documents.append({"apiVersion": V1, "kind": "HTTPRoute",
                          "metadata": {"name": f"{ingress.name}-{host.replace('.', '-')}",
                                       "namespace": namespace}, "spec": spec})
    return documents


def migration_manifest(ingress: Ingress) -> str:
    header = (f"# Ingress {ingress.key} as Gateway API objects, for the gateway-migration "
              "guided lab:\n# kubectl apply -f saves/ingress-to-gateway.yaml\n")
    return header + yaml.safe_dump_all(gateway_documents(ingress), sort_keys=False)
