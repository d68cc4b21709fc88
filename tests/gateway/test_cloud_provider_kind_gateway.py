"""cloud-provider-kind's own Gateway controller under --lb cloud-provider-kind: its class,
an Envoy container per Gateway on the kind network, its status, its route table, and the
Envoy's connection to the backend's ClusterIP; under another provider nobody serves it."""

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from playground.cli import do_trace
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.gateway.status import class_conditions, gateway_view
from playground.cluster.lab import NODES
from playground.cluster.legs import TraceRequest, legs
from playground.cluster.manifests import apply_files
from playground.commands.base import ShellError
from playground.gateway.cloud_provider_kind import container_name
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell

DATA = Path(__file__).parent.parent / "data" / "gateway"
SIMPLE = str(DATA / "kind-simple.yaml")     # cloud-provider-kind's own example
MATCHES = str(DATA / "kind-matches.yaml")
CONTAINER = container_name("default", "prod-web")


async def small(lb: str) -> Cluster:
    cluster = Cluster(lb=lb)
    await cluster.start()
    for name, control_plane, ip, cidr in NODES[:2]:
        await cluster.add_node(name, control_plane=control_plane, internal_ip=ip,
                               pod_cidr=cidr)
    return cluster


@pytest.fixture
async def kind():
    cluster = await small("cloud-provider-kind")
    yield cluster
    await cluster.stop()


def proxied(found):
    return next(leg for leg in found if leg.role in ("proxied", "answer"))


def test_the_container_is_named_as_cloud_provider_kind_names_it():
    digest = hashlib.sha256(b"kind/default/prod-web").hexdigest()[:12]
    assert f"kindccm-gw-{digest}" == CONTAINER


async def test_its_example_works_with_the_class_it_installs(kind):
    gc = kind.api.get("GatewayClass", "", "cloud-provider-kind")
    assert gc.controller_name == "kind.sigs.k8s.io/gateway-controller"
    assert class_conditions(kind, gc.name)[0].message == \
        "GatewayClass is accepted by this controller."
    await apply_files(kind, [SIMPLE])
    envoy = kind.network.namespace(CONTAINER)
    address = str(envoy.primary_address("eth0"))
    assert address.startswith("172.18.0.")
    view = gateway_view(kind, kind.api.get("Gateway", "default", "prod-web"))
    assert view.addresses == [address]
    assert [(c.type, c.status, c.message) for c in view.conditions] == [
        ("Programmed", "True", "Envoy configuration updated successfully"),
        ("Accepted", "True", "Gateway is accepted")]
    assert "Route is accepted." in (await Shell(kind).run("kubectl describe httproute foo")).output
    control = kind.api.get("Node", "", "kind-control-plane").status.internal_ip
    assert f"10.96.0.0/12 via {control} dev eth0" in envoy.ip_route(), \
        "the route-adder sends the Service CIDR to the control-plane node"

    found = legs(kind, TraceRequest("internet", "gw/prod-web", path="/hostname"))
    assert found[0].trace.delivered_to.namespace == CONTAINER
    leg = proxied(found)
    service = kind.api.get("Service", "default", "myapp-svc")
    assert leg.role == "proxied" and str(leg.trace.packet.dst) == service.spec.cluster_ip
    assert leg.trace.packet.dport == 8080, "Envoy sends to the ClusterIP, not an endpoint"
    assert str(leg.trace.packet.src) == address
    assert "httproute default/foo rule 0 match 0: PathPrefix /" in leg.why
    assert "STATIC cluster default_myapp-svc_core_Service_8080" in leg.why
    assert leg.trace.delivered_to.namespace.startswith("pod/default/myapp-")
    assert any(h.where == "node/kind-control-plane" and "DNAT" in h.detail
               for h in leg.trace.hops), "kube-proxy on the control-plane node picks it"

    await Shell(kind).run("kubectl delete gateway prod-web")
    assert kind.network.find(CONTAINER) is None


async def test_the_route_table_as_cloud_provider_kind_builds_it(kind):
    await apply_files(kind, [MATCHES])

    def ask(**request):
        return proxied(legs(kind, TraceRequest("internet", "gw/shop", **request)))

    def backend(leg):
        return leg.trace.delivered_to.namespace

    plain = ask(host="shop.example.com")
    assert backend(plain) == "pod/default/stable" and "rule 4" in plain.why
    assert backend(ask(host="shop.example.com", headers=(("X-Env", "canary"),))) == \
        "pod/default/canary", "a header match, its name in any case"
    assert backend(ask(host="shop.example.com", path="/cart?v=2")) == "pod/default/canary"
    assert backend(ask(host="shop.example.com", path="/cart?v=3")) == "pod/default/stable"
    admin = ask(host="shop.example.com", path="/admin/users")
    assert admin.title.startswith("gateway default/shop answers 500")
    assert "its method POST is not translated, so GET is taken too" in admin.why
    assert "BackendNotFound backend not found" in admin.why
    moved = ask(host="shop.example.com", path="/old/a?q=1")
    assert "answers 301 Moved Permanently (Location: http://new.example.com/old/a?q=1)" in \
        moved.title
    missed = ask(host="www.other.org")
    assert missed.title.startswith("gateway default/shop answers 404")
    assert "no virtual host takes host www.other.org (domains: shop.example.com)" in missed.why
    assert missed.trace.delivered_to.namespace == "internet"
    route = (await Shell(kind).run("kubectl describe httproute store")).output
    assert "BackendNotFound" in route and "backend not found" in route


async def test_the_command_line_takes_the_request_and_json_holds_it(kind, capsys):
    await apply_files(kind, [MATCHES])
    args = SimpleNamespace(src="internet", dst="gw/shop", proto="tcp", port=None,
                           namespace=None, size=None, df=False, reply=False, json=True,
                           host="shop.example.com", path="/cart?v=2", method="PUT",
                           header=[("x-a", "1")], pcap=None)
    assert do_trace(kind, args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["request"] == {"method": "PUT", "host": "shop.example.com",
                               "path": "/cart?v=2", "headers": [{"name": "x-a", "value": "1"}]}
    assert data["gateway"]["why"].startswith("PUT Host shop.example.com /cart?v=2, x-a: 1: "
                                             "httproute default/store rule 1")
    assert data["gateway"]["trace"]["delivered_to"]["namespace"] == "pod/default/canary"


async def test_the_colon_line_takes_method_headers_and_a_query(kind):
    await apply_files(kind, [MATCHES])
    shell = Shell(kind)
    result = await shell.run("trace internet gw/shop --host shop.example.com --header "
                             "x-env:canary --method DELETE")
    assert proxied(result.legs).why.startswith(
        "DELETE Host shop.example.com /, x-env: canary: httproute default/store rule 0")
    with pytest.raises(ShellError, match="is not a header: give NAME:VALUE"):
        await shell.run("trace internet gw/shop --header nocolon")


async def test_a_saved_lab_runs_its_gateway_again(kind, tmp_path):
    await apply_files(kind, [SIMPLE])
    address = gateway_view(kind, kind.api.get("Gateway", "default", "prod-web")).addresses
    path = str(tmp_path / "kind.lab")
    await save_lab(Lab(kind), path)
    loaded = await load_lab(path)
    try:
        again = gateway_view(loaded.cluster, loaded.cluster.api.get("Gateway", "default",
                                                                    "prod-web"))
        assert again.addresses == address
        leg = proxied(legs(loaded.cluster, TraceRequest("internet", "gw/prod-web")))
        assert leg.trace.delivered_to.namespace.startswith("pod/default/myapp-")
    finally:
        await loaded.cluster.stop()


KIND_CLASS = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: cloud-provider-kind}
spec: {controllerName: kind.sigs.k8s.io/gateway-controller}
"""


async def test_under_another_provider_nobody_serves_its_class(tmp_path):
    cluster = await small("cloud")
    try:
        assert cluster.api.peek("GatewayClass", "", "cloud-provider-kind") is None
        await apply_files(cluster, [SIMPLE])
        gw = cluster.api.get("Gateway", "default", "prod-web")
        assert [(c.type, c.status, c.reason, c.message)
                for c in gateway_view(cluster, gw).conditions] == [
            ("Accepted", "Unknown", "Pending", "Waiting for controller"),
            ("Programmed", "Unknown", "Pending", "Waiting for controller")]
        (tmp_path / "class.yaml").write_text(KIND_CLASS)
        await apply_files(cluster, [str(tmp_path / "class.yaml")])
        assert class_conditions(cluster, "cloud-provider-kind")[0].status == "Unknown"
        assert gateway_view(cluster, gw).conditions[0].status == "Unknown"
        assert cluster.network.find(CONTAINER) is None
        with pytest.raises(ClusterError, match="has no address: Programmed Unknown"):
            legs(cluster, TraceRequest("internet", "gw/prod-web"))
    finally:
        await cluster.stop()



async def test_without_a_node_to_route_through_it_writes_nothing(tmp_path):
    cluster = Cluster(lb="cloud-provider-kind")
    await cluster.start()
    try:
        gateway_and_route = "---".join(Path(SIMPLE).read_text().split("---")[:2])
        (tmp_path / "gw.yaml").write_text(gateway_and_route)
        await apply_files(cluster, [str(tmp_path / "gw.yaml")])
        gw = cluster.api.get("Gateway", "default", "prod-web")
        view = gateway_view(cluster, gw)
        assert [c.message for c in view.conditions] == ["Waiting for controller"] * 2
        assert view.listeners == [] and cluster.network.find(CONTAINER) is None
        shown = (await Shell(cluster).run("kubectl describe httproute foo")).output
        assert "kind.sigs.k8s.io/gateway-controller" not in shown
    finally:
        await cluster.stop()
