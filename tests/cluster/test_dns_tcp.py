"""DNS over TCP 53: a truncated answer over UDP and the resolver's retry over TCP, each its
own leg through kube-proxy's dns-tcp port; and a pod whose resolv.conf says use-vc."""

import dns.flags
import pytest
import pytest_asyncio

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import TraceRequest, legs, main_leg
from playground.cluster.objects import Container
from playground.cluster.service import ServicePort
from playground.shell import Shell

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def big():
    """The default lab with a headless Service of 40 ready endpoints."""
    cluster = await build_default_lab()
    await cluster.add_deployment("big", [Container("big", "nginx")], replicas=40)
    await cluster.add_service("big", [ServicePort(80, name="http")], selector={"app": "big"},
                              cluster_ip="None")
    await cluster.settle()
    yield cluster
    await cluster.stop()


def roles(found):
    return [leg.role for leg in found]


async def test_40_addresses_are_truncated_over_udp_and_asked_again_over_tcp(big):
    found = legs(big, TraceRequest("pod/client", "big"))
    assert roles(found) == ["dns", "dns-reply", "dns-tcp", "dns-tcp-reply", "dns", "dns-reply",
                            "packet"]
    udp, tcp = found[1], found[5]
    assert udp.message.flags & dns.flags.TC and 0 < len(udp.message.answer[0]) < 40
    assert udp.trace.packet.length <= 28 + 512
    assert "truncated (TC)" in udp.title
    assert found[2].why == "the answer was truncated (TC): the same server again over TCP"
    assert not tcp.message.flags & dns.flags.TC and len(tcp.message.answer[0]) == 40
    # the retry goes to the server that truncated, through kube-proxy's dns-tcp port
    syn, query = found[2].trace, found[4].trace
    assert syn.packet.dst.exploded == "10.96.0.10" and syn.packet.flags == "SYN"
    dnat = next(hop for hop in syn.hops if hop.packet_after.dst != hop.packet_before.dst)
    assert "kube-system/kube-dns:dns-tcp" in dnat.rule and "DNAT" in dnat.rule
    assert syn.delivered_to.namespace.startswith("pod/kube-system/coredns-")
    # the query rides the connection: its length first, the same id glibc sent over UDP
    assert query.packet.flags == "PSH,ACK" and query.packet.sport == syn.packet.sport
    assert query.packet.length == 40 + 2 + len(found[4].message.to_wire())
    assert found[4].message.id == found[0].message.id
    assert found[5].trace.packet.flags == "PSH,ACK"
    assert found[5].trace.delivered_packet.src.exploded == "10.96.0.10"
    endpoints = {item.address for item in tcp.message.answer[0]}
    assert main_leg(found).trace.packet.dst.exploded in endpoints


async def test_dig_with_edns_gets_the_40_over_udp_and_without_it_retries_over_tcp(big):
    shell = Shell(big)
    whole = await shell.run("dig big.default.svc.cluster.local", "pod/client")
    assert "ANSWER: 40," in whole.output and "(UDP)" in whole.output
    assert "Truncated" not in whole.output
    cut = await shell.run("dig +noedns big.default.svc.cluster.local", "pod/client")
    lines = cut.output.splitlines()
    assert lines[0] == ";; Truncated, retrying in TCP mode."
    assert lines[2].startswith("; <<>> DiG 9.18")
    assert "ANSWER: 40," in cut.output
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (TCP)" in lines
    size = next(line for line in lines if line.startswith(";; MSG SIZE"))
    assert int(size.split()[-1]) > 512


async def test_dig_tcp_opens_a_connection_and_coredns_forwards_over_tcp(big):
    result = await Shell(big).run("dig +tcp example.com", "pod/client")
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (TCP)" in result.output
    assert "example.com.\t\t30\tIN\tA\t203.0.113.100" in result.output
    kinds = roles(result.legs)
    assert kinds[:2] == ["dns-tcp", "dns-tcp-reply"]
    # forward's proxy asks upstream over the transport the client used
    assert "forwarded-dns-tcp" in kinds
    upstream = next(leg for leg in result.legs if leg.role == "forwarded-dns")
    assert upstream.trace.packet.proto == "tcp" and upstream.trace.delivered_to.owner == \
        "resolver"


async def test_a_pod_with_use_vc_asks_over_tcp_from_the_start(big, tmp_path):
    path = tmp_path / "vc.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: vc\nspec:\n"
                    "  containers:\n  - name: c\n    image: busybox\n"
                    "  dnsConfig:\n    options:\n    - name: use-vc\n")
    await Shell(big).run(f"kubectl apply -f {path}", None)
    await big.settle()
    found = legs(big, TraceRequest("pod/vc", "web.default.svc.cluster.local."))
    assert roles(found) == ["dns-tcp", "dns-tcp-reply", "dns", "dns-reply", "packet"]


async def test_coredns_gone_the_tcp_connection_is_refused(big):
    await big.scale("coredns", 0, "kube-system")
    await big.advance(31)
    result = await Shell(big).run("dig +tcp web.default.svc.cluster.local", "pod/client")
    assert result.output.splitlines()[0] == \
        ";; communications error to 10.96.0.10#53: connection refused"
    assert {leg.role for leg in result.legs} == {"dns-tcp"}
    await big.scale("coredns", 2, "kube-system")
