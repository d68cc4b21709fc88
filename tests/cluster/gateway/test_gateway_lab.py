"""Envoy Gateway in the lab: its quickstart as it is, the status it writes, its proxy, and
the route decisions of `trace internet gw/NAME --host ...`."""

from pathlib import Path

import pytest
import yaml

from playground.cluster.cluster import ClusterError
from playground.cluster.gateway.tables import describe
from playground.cluster.kube_yaml import manifests
from playground.cluster.legs import TraceRequest, legs
from playground.cluster.manifests import apply_files
from playground.cluster.restore import saved_objects
from playground.commands.places import places
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell

QUICKSTART = str(Path(__file__).parent.parent.parent / "data" / "gateway" / "quickstart.yaml")
ENVOY = "envoy-default-eg-e41e7b31"   # envoy-NS-NAME-<8 hex of sha256("default/eg")>


async def kubectl(lab, line: str) -> str:
    return (await Shell(lab).run(line)).output


def write(tmp_path, text: str) -> str:
    path = tmp_path / "more.yaml"
    path.write_text(text)
    return str(path)


def proxied(found):
    return next(leg for leg in found if leg.role in ("proxied", "answer"))


async def test_the_quickstart_works_as_it_is(lab):
    await apply_files(lab, [QUICKSTART])
    assert lab.api.peek("Deployment", "envoy-gateway-system", ENVOY) is not None
    envoy = lab.api.get("Service", "envoy-gateway-system", ENVOY)
    assert envoy.spec.type == "LoadBalancer"
    address = envoy.status.load_balancer_ips[0]
    table = await kubectl(lab, "kubectl get gatewayclass,gateway,httproute")
    lines = [line.split() for line in table.splitlines() if line]
    assert lines[0] == ["NAME", "CONTROLLER", "ACCEPTED", "AGE"]
    assert lines[1][:3] == ["eg", "gateway.envoyproxy.io/gatewayclass-controller", "True"]
    assert lines[2] == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    assert lines[3][:4] == ["eg", "eg", address, "True"]
    assert lines[4] == ["NAME", "HOSTNAMES", "AGE"]
    assert lines[5][:2] == ["backend", '["www.example.com"]']
    shown = describe(lab, "Gateway", "default", "eg")
    assert "Attached Routes:  1" in shown and f"Value:  {address}" in shown
    assert "gw/eg" in places(lab)

    found = legs(lab, TraceRequest("internet", "gw/eg", host="www.example.com", path="/get"))
    assert found[0].trace.delivered_to.namespace.startswith(f"pod/envoy-gateway-system/{ENVOY}")
    leg = proxied(found)
    assert leg.role == "proxied" and leg.service == "default/backend:3000"
    assert leg.why.startswith("GET Host www.example.com /get: httproute default/backend rule 0 "
                              "match 0: PathPrefix /")
    assert "weights backend 1: drew 0 of 1" in leg.why
    assert leg.trace.delivered_to.namespace.startswith("pod/default/backend-")
    assert leg.trace.packet.dport == 3000, "Envoy connects to the endpoint, not the cluster IP"

    missed = proxied(legs(lab, TraceRequest("internet", "gw/eg", host="shop.example.com")))
    assert missed.role == "answer" and missed.title.startswith("gateway default/eg answers 404")
    assert missed.trace.verdict == "delivered" and missed.trace.delivered_to.namespace == \
        "internet", "the 404 goes back to the client on its own connection"

    await kubectl(lab, "kubectl delete gateway eg")
    assert lab.api.peek("Deployment", "envoy-gateway-system", ENVOY) is None
    assert lab.api.peek("Service", "envoy-gateway-system", ENVOY) is None


MORE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other}
spec:
  gatewayClassName: other
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared}
spec:
  gatewayClassName: eg
  listeners:
  - name: shop
    protocol: HTTP
    port: 80
    hostname: "*.example.com"
    allowedRoutes: {namespaces: {from: All}}
  - name: local
    protocol: HTTP
    port: 8080
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: shared, namespace: default, sectionName: shop}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: backend, namespace: default, port: 3000}]
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stray, namespace: shop}
spec:
  parentRefs: [{name: shared, namespace: default, sectionName: local}]
  rules:
  - backendRefs: [{name: backend, namespace: default, port: 3000}]
"""

GRANT = """
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: shop-to-backend}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
"""


def conditions(lab, route: str) -> dict[str, str]:
    text = describe(lab, "HTTPRoute", "shop", route)
    found, kind = {}, None
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Reason":
            kind = value.strip()
        if key == "Type":
            found[value.strip()] = kind
    return found


async def test_status_reasons_grants_precedence_and_redirects(lab, tmp_path):
    await apply_files(lab, [QUICKSTART])
    await apply_files(lab, [write(tmp_path, MORE)])
    other = describe(lab, "Gateway", "default", "other")
    assert "Reason:   Pending" in other and "Waiting for controller" in other
    with pytest.raises(ClusterError, match="gateway default/other has no address"):
        legs(lab, TraceRequest("internet", "gw/other"))
    assert conditions(lab, "stray") == {"Accepted": "NotAllowedByListeners",
                                        "ResolvedRefs": "RefNotPermitted"}
    assert conditions(lab, "shop") == {"Accepted": "Accepted",
                                       "ResolvedRefs": "RefNotPermitted"}
    refused = proxied(legs(lab, TraceRequest("internet", "gw/shared",
                                             host="shop.example.com")))
    assert refused.title.startswith("gateway default/shared answers 500")
    assert "RefNotPermitted" in refused.why

    await apply_files(lab, [write(tmp_path, GRANT)])
    assert conditions(lab, "shop")["ResolvedRefs"] == "ResolvedRefs"
    sent = proxied(legs(lab, TraceRequest("internet", "gw/shared", host="shop.example.com",
                                          path="/cart")))
    assert sent.role == "proxied" and "httproute shop/shop rule 0 match 0" in sent.why
    moved = proxied(legs(lab, TraceRequest("internet", "gw/shared", host="shop.example.com",
                                           path="/old")))
    assert "rule 1 match 0: Exact /old" in moved.why, "Exact before any prefix"
    assert moved.title == ("gateway default/shared answers 301 Moved Permanently "
                           "(Location: https://shop.example.com/old):")


async def test_a_saved_gateway_comes_back_and_exports_as_it_was_applied(lab, tmp_path):
    await apply_files(lab, [QUICKSTART])
    path = tmp_path / "gw.k8slab"
    await save_lab(Lab(lab), path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert await kubectl(loaded.cluster, "kubectl get gateway,httproute") == \
            await kubectl(lab, "kubectl get gateway,httproute")
        found = legs(loaded.cluster, TraceRequest("internet", "gw/eg", host="www.example.com"))
        assert proxied(found).role == "proxied"
    finally:
        await loaded.close()
    exported = list(yaml.safe_load_all(manifests(lab)))
    applied = list(yaml.safe_load_all(Path(QUICKSTART).read_text()))
    by_kind = {d["kind"]: d for d in exported}
    for doc in applied:
        if doc["kind"] in ("GatewayClass", "Gateway", "HTTPRoute"):
            assert by_kind[doc["kind"]]["spec"] == {**doc["spec"], **(
                {"rules": [{"matches": r["matches"], "backendRefs": [
                    {"name": "backend", "port": 3000}]} for r in doc["spec"]["rules"]]}
                if doc["kind"] == "HTTPRoute" else {})}
    assert not any(d["metadata"].get("namespace") == "envoy-gateway-system" for d in exported)
