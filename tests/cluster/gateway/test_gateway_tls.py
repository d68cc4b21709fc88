"""HTTPS listeners on both Gateway controllers: certificateRefs resolved to TLS Secrets
(ReferenceGrant for another namespace's), their ResolvedRefs as each controller words
them, and a trace whose TLS ends at the Envoy, the SNI picking the listener, the request
inside routed."""

from pathlib import Path

import pytest
import pytest_asyncio

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.gateway.status import gateway_view
from playground.cluster.lab import NODES
from playground.cluster.legs import TraceRequest, legs
from playground.cluster.manifests import apply_files

pytestmark = pytest.mark.asyncio(loop_scope="module")
HTTPS = str(Path(__file__).parent.parent.parent / "data" / "gateway" / "https.yaml")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kind():
    """Both controllers in one small lab: Envoy Gateway's eg-tls, cloud-provider-kind's
    kind-tls, the same four listeners."""
    cluster = Cluster(lb="cloud-provider-kind")
    await cluster.start()
    for name, control_plane, ip, cidr in NODES[:2]:
        await cluster.add_node(name, control_plane=control_plane, internal_ip=ip,
                               pod_cidr=cidr)
    await apply_files(cluster, [HTTPS])
    yield cluster
    await cluster.stop()


def resolved(cluster, name: str) -> dict:
    view = gateway_view(cluster, cluster.api.get("Gateway", "default", name))
    return {lst.name: next((c.reason, c.message) for c in lst.conditions
                           if c.type == "ResolvedRefs") for lst in view.listeners}


async def test_certificate_refs_resolve_as_envoy_gateway_says(kind):
    assert resolved(kind, "eg-tls") == {
        "shop": ("ResolvedRefs", "Resolved all refs"),
        "other": ("ResolvedRefs", "Resolved all refs"),
        "blog": ("InvalidCertificateRef", "Secret default/missing does not exist"),
        "docs": ("RefNotPermitted", "Certificate ref to Secret certs/docs not permitted by "
                                    "any ReferenceGrant")}


async def test_certificate_refs_resolve_as_cloud_provider_kind_says(kind):
    assert resolved(kind, "kind-tls") == {
        "shop": ("ResolvedRefs", "All references resolved"),
        "other": ("ResolvedRefs", "All references resolved"),
        "blog": ("InvalidCertificateRef", "reference to Secret default/missing not found"),
        "docs": ("RefNotPermitted", "reference to Secret certs/docs not permitted by any "
                                    "ReferenceGrant")}
    conditions = gateway_view(kind, kind.api.get("Gateway", "default", "kind-tls")).conditions
    assert (conditions[0].reason, conditions[0].message) == (
        "ListenersNotProgrammed", "2 out of 4 listeners failed to be programmed")


@pytest.mark.parametrize("gateway", ["eg-tls", "kind-tls"])
@pytest.mark.parametrize("host, listener, certificate", [
    ("shop.example.com", "shop", "default/shop-cert"),
    ("a.other.example", "other", "certs/wild")])
async def test_the_sni_picks_the_listener_and_the_request_is_routed(kind, gateway, host,
                                                                   listener, certificate):
    found = legs(kind, TraceRequest("internet", f"gw/{gateway}:443", host=host, path="/x"))
    assert found[0].trace.delivered_packet.dport == 443
    leg = next(leg for leg in found if leg.proxy == "gateway")
    assert f"TLS terminated at the Envoy: SNI {host} picks listener {listener}, " \
           f"certificate {certificate}; httproute default/sites rule 0" in leg.why
    assert leg.trace.delivered_to.namespace == "pod/default/site"


@pytest.mark.parametrize("gateway", ["eg-tls", "kind-tls"])
async def test_no_filter_chain_for_the_sni_ends_the_connection(kind, gateway):
    with pytest.raises(ClusterError, match="closes the connection: no filter chain on port "
                                           "443 matches SNI blog.example.com"):
        legs(kind, TraceRequest("internet", f"gw/{gateway}:443", host="blog.example.com"))


async def test_tls_on_an_http_listener_is_refused(kind, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: "
                    "{name: bad}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {name: a, "
                    "protocol: HTTP, port: 80, tls: {certificateRefs: [{name: x}]}}\n")
    with pytest.raises(ClusterError, match="tls must not be specified for protocols"):
        await apply_files(kind, [str(path)])
