"""IPVS labs and the real kernel. The ipsets and kube-proxy's `-m set` rules are loaded into
a real namespace and read back; the full probe run needs a kernel with IPVS, and says so
in one line where it has none (this machine's kernel is built without CONFIG_IP_VS)."""

import os
import subprocess

import pytest

from playground.cli import main
from playground.cluster.lab import build_default_lab
from playground.cluster.service import ServicePort
from playground.verify.ipvs_plan import IPVS_TOOLS, ipvs_commands, ipvs_missing
from playground.verify.kernel import run
from playground.verify.materialise import PREFIX, Command, in_ns, plan
from playground.verify.run import verify


async def ipvs_lab():
    lab = await build_default_lab(proxy_mode="ipvs")
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort",
                          external_traffic_policy="Local")
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer",
                          session_affinity="ClientIP")
    return lab


@pytest.fixture
def ipset_tools(kernel):
    """The set tools are apt packages: missing, the test skips, or fails under CI=true."""
    import shutil

    missing = [tool for tool in IPVS_TOOLS if shutil.which(tool) is None]
    if missing:
        reason = f"needs {', '.join(missing)} (apt-get install ipvsadm ipset)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"kernel tests must run in CI, but {reason}")
        pytest.skip(reason)


@pytest.fixture
def ipvs_kernel(ipset_tools):
    """A kernel without IPVS is no fault of the machine's setup: skip, saying so, even in CI."""
    reason = ipvs_missing()
    if reason is not None:
        pytest.skip(reason)


async def test_the_plan_builds_kube_ipvs0_the_sets_and_the_virtual_services():
    lab = await ipvs_lab()
    try:
        script = plan(lab.network).script()
        node = lab.node_namespace("kind-worker")
        restore = ipvs_commands(f"{PREFIX}node_kind-worker", node)
    finally:
        await lab.stop()
    assert f"ip -n {PREFIX}node_kind-worker link add kube-ipvs0 type dummy" in script
    assert "create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\n" in restore[0].stdin
    assert "add KUBE-CLUSTER-IP 10.96.0.1,tcp:443\n" in restore[0].stdin
    assert "-A -t 198.51.100.10:80 -s rr -p 10800\n" in restore[1].stdin
    assert "-a -t 172.18.0.2:30080 -r 10.244.1.3:80 -m -w 1\n" in restore[1].stdin
    assert script.index("ipvsadm-restore") < script.index("net.ipv4.vs.conntrack=1")


async def test_the_kernel_takes_the_sets_and_the_rules_and_prints_them_back(ipset_tools):
    lab = await ipvs_lab()
    node = lab.node_namespace("kind-worker")
    name = f"{PREFIX}ipvs-rules"
    sets, rules = ipvs_commands(name, node)[0], node.netfilter.save()
    await lab.stop()
    subprocess.run(("ip", "netns", "del", name), capture_output=True)
    run(Command(("ip", "netns", "add", name)))
    try:
        run(sets)
        run(in_ns(name, "iptables-restore", stdin=rules))
        kernel_rules = run(in_ns(name, "iptables-save"))
        listing = run(in_ns(name, "ipset", "list"))
    finally:
        subprocess.run(("ip", "netns", "del", name), capture_output=True)
    ours = [line for line in rules.splitlines() if line.startswith("-A")]
    assert ours == [line for line in kernel_rules.splitlines() if line.startswith("-A")]
    for found in node.ipsets.sets.values():
        block = listing.split(f"Name: {found.name}\n", 1)[1].split("\n\n", 1)[0]
        assert sorted(block.partition("Members:")[2].split()) == sorted(found.members), \
            found.name
        model = node.ipset_list(found.name).splitlines()
        assert [line for line in block.splitlines() if line.startswith(("Type", "References",
                "Number", "Revision"))] == [line for line in model if line.startswith(
                    ("Type", "References", "Number", "Revision"))], found.name


async def test_every_probe_of_an_ipvs_lab_matches_the_kernel(ipvs_kernel):
    lab = await ipvs_lab()
    try:
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []


def test_verify_says_in_one_line_why_an_ipvs_lab_cannot_be_checked(monkeypatch, capsys):
    monkeypatch.setattr("playground.verify.run.missing_requirements", lambda: None)
    monkeypatch.setattr("playground.verify.run.ipvs_missing",
                        lambda: "cannot check an IPVS lab on this machine: its kernel has no "
                                "IPVS")
    assert main(["verify", "--proxy-mode", "ipvs"]) == 2
    assert capsys.readouterr().err == (
        "error: verify cannot check an IPVS lab on this machine: its kernel has no IPVS\n")
