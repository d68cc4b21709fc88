"""The ICMP redirects the model sends, checked against the kernel's own ICMP counters: a
router on a LAN sends one and the sender gets it; a ptp node sends one on a Service's
hairpin, and NAT keeps it in, so the pod never gets it."""

import json
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network

import pytest

from playground.cluster.legs import send
from playground.net.link import Bridge, stable_mac
from playground.net.network import Network
from playground.net.route import Route
from playground.verify.cleanup import PROGRAMS, KernelLab
from playground.verify.kernel import run
from playground.verify.materialise import in_ns, linux_name, plan
from playground.verify.probes import listeners


def lan_with_a_better_router() -> Network:
    """left and right on host's bridge; left's default router (host) sends 10.9.0.5 on to
    right, back out the bridge: a redirect case, with no conntrack anywhere."""
    world = Network(seed=1)
    host = world.add_namespace("host")
    host.sysctl["net.ipv4.ip_forward"] = "1"
    bridge = host.add_device(Bridge("br0", stable_mac("br0")))
    host.add_address("br0", "10.0.0.1/24")
    for index, name in enumerate(("left", "right"), start=2):
        leaf = world.add_namespace(name)
        _, port = world.add_veth(leaf, "eth0", host, f"v-{name}")
        bridge.enslave(port)
        leaf.add_address("eth0", f"10.0.0.{index}/24")
        leaf.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=IPv4Address("10.0.0.1")))
    host.add_route(Route(IPv4Network("10.9.0.0/24"), dev="br0", via=IPv4Address("10.0.0.3")))
    world.namespace("right").add_address("lo", "10.9.0.5/32")
    return world


def icmp_counters(model_name: str) -> dict[str, int]:
    """The Icmp line of /proc/net/snmp in a namespace of the kernel lab."""
    lines = run(in_ns(linux_name(model_name), "cat", "/proc/net/snmp")).splitlines()
    names, values = [line.split()[1:] for line in lines if line.startswith("Icmp:")]
    return dict(zip(names, map(int, values), strict=True))


def probe(model_name: str, dst, port: int, sport: int) -> dict:
    argv = in_ns(linux_name(model_name), sys.executable, str(PROGRAMS / "client.py"),
                 "tcp", str(sport), str(dst), str(port), "2").argv
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def test_a_router_on_a_lan_redirects_and_the_sender_gets_it(kernel):
    world = lan_with_a_better_router()
    model = world.send("left", "10.9.0.5", "tcp", 80)
    assert [h.where for h in model.hops if h.packet_after.icmp_type == 5
            and h.event == "deliver"] == ["left"]
    with KernelLab(plan(world)):
        assert probe("left", "10.9.0.5", 80, 41000)["outcome"] == "refused"
        sent, got = icmp_counters("host")["OutRedirects"], icmp_counters("left")["InRedirects"]
    assert sent >= 1 and got >= 1


@pytest.mark.dataplanes("ptp")
async def test_a_ptp_hairpin_redirect_is_sent_but_never_reaches_the_pod(kernel, dataplane_lab):
    service = next(s for s in dataplane_lab.services() if s.name == "web").spec.cluster_ip
    for _ in range(40):  # the model: until the Service picks the sender itself
        model = send(dataplane_lab, "pod/web-2", "svc/web", "tcp", None, None)
        if model.delivered_to.namespace == "pod/default/web-2":
            break
    events = [(h.where, h.event) for h in model.hops if h.packet_after.icmp_type == 5]
    assert events == [("node/kind-worker", "icmp"), ("node/kind-worker", "drop")]
    with KernelLab(plan(dataplane_lab.network)) as lab:
        for name, specs in listeners(dataplane_lab).items():
            lab.start_responder(linux_name(name), name, specs)
        servers = {probe("pod/default/web-2", service, 80, sport).get("server")
                   for sport in range(41000, 41016)}
        assert "pod/default/web-2" in servers, "the kernel picked the sender itself too"
        sent = icmp_counters("node/kind-worker")["OutRedirects"]
        got = icmp_counters("pod/default/web-2")["InRedirects"]
    assert sent >= 1 and got == 0

