"""The nftables model against the kernel: rulesets loaded with the real `nft -f` in a
namespace made for the test, listed back (text byte for byte, `-a` handles, `-j` JSON),
and packets sent through veths to compare verdicts and NAT with the model's walk."""

import json
import shutil
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from playground.net.network import Network
from playground.net.nftables import Nftables
from playground.net.route import Route
from playground.verify.cleanup import KernelLab
from playground.verify.command import Command, in_ns
from playground.verify.kernel import conntrack_entries, run
from playground.verify.materialise import PREFIX, Plan, linux_name, plan
from playground.verify.nft_check import kernel_json, mismatches, normalised

DATA = Path(__file__).parents[1] / "net" / "nftables" / "data"
RULESETS = ("kube_proxy_overall.nft", "features.nft")


@pytest.fixture
def nft_kernel(kernel):
    if shutil.which("nft") is None:
        pytest.skip("needs nft (apt-get install nftables)")


@pytest.fixture
def scratch(nft_kernel):
    """One empty namespace of our own, torn down after the test."""
    name = f"{PREFIX}nft-scratch"
    with KernelLab(Plan([name], [Command(("ip", "netns", "add", name))], {})):
        yield name


def nft(ns: str, *argv: str, stdin: str | None = None) -> str:
    return run(in_ns(ns, "nft", *argv, stdin=stdin))


@pytest.mark.parametrize("ruleset", RULESETS)
def test_the_kernel_lists_a_ruleset_as_the_model_does(scratch, ruleset):
    text = (DATA / ruleset).read_text()
    model = Nftables()
    model.run(text, ruleset)
    nft(scratch, "-f", "-", stdin=text)
    assert nft(scratch, "list", "ruleset") == model.list_ruleset()
    assert nft(scratch, "-a", "list", "ruleset") == model.list_ruleset(handles=True)
    assert normalised(kernel_json(scratch)) == normalised(model.list_json())
    assert kernel_json(scratch) == model.list_json()   # handles and all


@pytest.mark.parametrize("ruleset", RULESETS)
def test_the_models_listing_loads_into_the_kernel_unchanged(scratch, ruleset):
    model = Nftables()
    model.run((DATA / ruleset).read_text())
    nft(scratch, "-f", "-", stdin=model.list_ruleset())
    assert nft(scratch, "list", "ruleset") == model.list_ruleset()


@pytest.mark.parametrize("bad", [
    "add rule ip t c jump nowhere",
    "add chain ip t d { type nat hook forward priority 0 ; }",
    "add chain ip t d { type filter hook output priority dstnat ; }",
    "add chain ip t d\nadd rule ip t d jump c\ndelete chain ip t c",
    "add rule ip t c tcp dport 99999 accept",
    "add chain ip t in { type filter hook input priority 0 ; }\nadd chain ip t d\n"
    "add rule ip t in jump c\nadd rule ip t c jump d\nadd rule ip t d goto c",
    "add set ip t s { type ipv4_addr ; }\nadd element ip t s { 10.0.0.0/8 }",
])
def test_the_kernel_and_the_model_refuse_the_same_input(scratch, bad):
    base = "add table ip t\nadd chain ip t c\nadd rule ip t c accept\n"
    model = Nftables()
    model.run(base)
    nft(scratch, "-f", "-", stdin=base)
    with pytest.raises(ValueError):
        model.run(bad)
    done = subprocess.run(in_ns(scratch, "nft", "-f", "-").argv, input=bad, text=True,
                          capture_output=True)
    assert done.returncode != 0
    assert nft(scratch, "list", "ruleset") == model.list_ruleset()


ROUTER_RULES = """
add table ip lb
add chain ip lb pre { type nat hook prerouting priority dstnat ; }
add chain ip lb post { type nat hook postrouting priority srcnat ; }
add chain ip lb filter-forward { type filter hook forward priority 0 ; policy drop ; }
add map ip lb services { type ipv4_addr . inet_proto . inet_service : verdict ; }
add set ip lb blocked { type ipv4_addr ; flags interval ; elements = { 192.168.1.128/25 } ; }
add chain ip lb to-server
add rule ip lb pre ip daddr . meta l4proto . th dport vmap @services
add rule ip lb to-server meta l4proto tcp dnat to 192.168.2.2:80
add rule ip lb post oifname "wan" meta l4proto tcp masquerade
add rule ip lb filter-forward ct state established,related accept
add rule ip lb filter-forward ip saddr @blocked drop
add rule ip lb filter-forward ct state new ct status dnat accept
add rule ip lb filter-forward tcp dport 81 reject with tcp reset
add rule ip lb filter-forward tcp dport 82 reject
add element ip lb services { 192.168.1.1 . tcp . 8080 : goto to-server }
"""


def routed_world() -> Network:
    """client 192.168.1.2 -- router (nftables) -- server 192.168.2.2 (tcp 80)."""
    world = Network(seed=9)
    client, router, server = (world.add_namespace(n) for n in ("client", "router", "server"))
    world.add_veth(client, "eth0", router, "lan")
    world.add_veth(router, "wan", server, "eth0")
    client.add_address("eth0", "192.168.1.2/24")
    client.add_address("eth0", "192.168.1.200/24")
    router.add_address("lan", "192.168.1.1/24")
    router.add_address("wan", "192.168.2.1/24")
    server.add_address("eth0", "192.168.2.2/24")
    router.sysctl["net.ipv4.ip_forward"] = "1"
    for ns, gateway in ((client, "192.168.1.1"), (server, "192.168.2.1")):
        ns.add_route(Route(IPv4Network("0.0.0.0/0"), dev="eth0", via=IPv4Address(gateway)))
    server.bind("tcp", 80, "httpd")
    router.nft.run(ROUTER_RULES)
    return world


def probe(source: str, dst: str, port: int, sport: int, bind: str = "0.0.0.0") -> dict:
    argv = in_ns(linux_name(source), sys.executable, "-c",
                 "import json, socket, sys\n"
                 "from playground.verify import client\n"
                 f"socket.socket.bind = (lambda bind: lambda s, a: bind(s, ({bind!r}, a[1])))"
                 "(socket.socket.bind)\n"
                 f"print(json.dumps(client.probe('tcp', {sport}, {dst!r}, {port}, 2.0)))").argv
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


FLOWS = [  # source address, destination, port: what each should meet
    ("192.168.1.2", "192.168.1.1", 8080),    # the vmap's service: DNAT, masquerade
    ("192.168.1.200", "192.168.1.1", 8080),  # the blocked range: dropped in forward
    ("192.168.1.2", "192.168.2.2", 80),      # no DNAT: the drop policy
    ("192.168.1.2", "192.168.2.2", 81),      # reset
    ("192.168.1.2", "192.168.2.2", 82),      # ICMP port unreachable
]
OUTCOME = {"delivered": "reached", "dropped": "timeout", "rejected": "refused"}


@pytest.mark.parametrize("source, dst, port", FLOWS)
def test_packets_meet_the_same_rules_in_the_kernel_and_the_model(nft_kernel, source, dst,
                                                                   port):
    world = routed_world()
    sport = 41000 + port
    model = world.send("client", dst, "tcp", port, sport=sport) if source == "192.168.1.2" \
        else _send_from(world, source, dst, port, sport)
    with KernelLab(plan(world)) as lab:
        lab.start_responder(linux_name("server"), "server", ["tcp:0.0.0.0:80"])
        assert mismatches(world.namespace("router"), linux_name("router")) == []
        seen = probe("client", dst, port, sport, bind=source)
        entries = conntrack_entries(linux_name("router"))
    expected = OUTCOME[model.verdict]
    if model.verdict == "rejected" and port == 82:
        expected = "unreachable" if seen["outcome"] == "unreachable" else "refused"
    assert seen["outcome"] == expected, (model.text(), seen)
    if model.verdict == "delivered":
        peer = f"{model.delivered_packet.src}:{model.delivered_packet.sport}"
        assert seen["peer"] == peer
        reply = [e for e in world.namespace("router").conntrack.entries]
        assert [(e.original, e.reply) for e in reply] == entries


def _send_from(world: Network, source: str, dst: str, port: int, sport: int):
    from playground.net.packet import tcp_syn
    from playground.net.walk import Walker
    client = world.namespace("client")
    return Walker(world).send(client, tcp_syn(source, dst, sport, port), "client")


async def test_verify_loads_a_nodes_nftables_and_reads_it_back_unchanged(nft_kernel):
    """A node with both iptables (kube-proxy) and an nftables table of its own: verify
    loads both, the probes still agree, and the ruleset read back equals the model's."""
    from playground.cluster.lab import build_default_lab
    from playground.shell import Shell
    from playground.verify.run import verify

    lab = await build_default_lab()
    try:
        shell = Shell(lab)
        for line in ("nft add table inet extra",
                     "nft add set inet extra seen { type ipv4_addr ; flags dynamic,timeout ; "
                     "timeout 1h ; }",
                     "nft add chain inet extra fwd-extra { type filter hook forward "
                     "priority 10 ; }",
                     "nft add rule inet extra fwd-extra ct state new update @seen { ip saddr } "
                     "counter",
                     "nft add rule inet extra fwd-extra tcp dport 9999 drop"):
            await shell.run(line, "node/kind-worker")
        rulesets: list[str] = []
        results = verify(lab, rulesets=rulesets)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    assert rulesets == []
