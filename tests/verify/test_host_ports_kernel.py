"""hostNetwork pods and portmap's hostPort chains, built as real namespaces and iptables
rules: the kernel must agree with the model on every probe (needs root)."""

from playground.cluster.lab import build_default_lab
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort
from playground.verify.run import verify


async def test_host_network_and_host_ports_match_the_kernel(kernel):
    lab = await build_default_lab(cni="ptp")
    try:
        await lab.add_pod("hp", [Container("web", ports=[ContainerPort(80, None, "TCP", 8080)])],
                          node_name="kind-worker")
        await lab.add_pod("agent", [Container("agent", ports=[ContainerPort(9100)])],
                          labels={"app": "agent"}, node_name="kind-worker2", host_network=True)
        await lab.add_service("agent", [ServicePort(80, target_port=9100)],
                              selector={"app": "agent"})
        results = verify(lab)
    finally:
        await lab.stop()
    assert [r.problems for r in results if not r.ok] == []
    host_port = [r for r in results if r.probe.kind.endswith("→hostport")]
    assert len(host_port) == 3 + 8 and all(r.observed.server == "pod/default/hp"
                                          for r in host_port)
    own = next(r for r in host_port if r.probe.source_label == "pod/default/hp")
    assert own.observed.peer[0].exploded == "10.244.1.1", "its hairpin is masqueraded"
    to_agent = next(r for r in results if r.probe.kind == "pod→svc"
                    and r.probe.source_label == "pod/default/client"
                    and r.probe.target_label == "svc/default/agent")
    assert to_agent.observed.server == "node/kind-worker2"
