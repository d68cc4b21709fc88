"""hostNetwork pods: they run in their node's network namespace, as kubelet runs them
(no sandbox network, no CNI call, no address of their own: podIP is the node's IP)."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.legs import send
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.restore import saved_objects
from playground.cluster.service import ServicePort
from playground.cluster.tables import pods_table
from playground.saves import load_lab, pack_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell, ShellError

AGENT = [Container("agent", "prom/node-exporter", [ContainerPort(9100)])]


async def test_the_pod_has_the_nodes_address_and_no_namespace_or_veth_of_its_own(lab):
    node_ns = lab.node_namespace("kind-worker2")
    devices = set(node_ns.devices)
    pod = await lab.add_pod("exporter", AGENT, node_name="kind-worker2", host_network=True)
    assert pod.status.pod_ip == pod.status.host_ip == "172.18.0.3"
    assert "pod/default/exporter" not in lab.network.namespaces
    assert set(node_ns.devices) == devices, "no veth: the CNI was never called"
    assert pod.spec.containers[0].ports[0].host_port == 9100, "defaulted to containerPort"
    row = next(line for line in pods_table(lab, "default", True).splitlines()
               if line.startswith("exporter"))
    assert re.match(r"exporter +1/1 +Running +0 +\S+ +172\.18\.0\.3 +kind-worker2 ", row)


async def test_traces_reach_it_and_leave_it_in_the_nodes_namespace(lab):
    await lab.add_pod("exporter", AGENT, node_name="kind-worker2", host_network=True)
    trace = send(lab, "pod/client", "pod/exporter")
    assert trace.verdict == "delivered"
    assert (trace.delivered_to.namespace, trace.delivered_to.owner) == (
        "node/kind-worker2", "agent")
    out = send(lab, "pod/exporter", "pod/web-2")
    assert out.hops[0].where == "node/kind-worker2"
    assert str(out.hops[0].packet_before.src) == "172.18.0.3", "it sends as the node does"
    assert out.verdict == "delivered"


async def test_a_service_selecting_it_has_an_endpoint_at_the_node(lab):
    await lab.add_pod("exporter", AGENT, labels={"app": "exporter"}, node_name="kind-worker2",
                      host_network=True)
    await lab.add_service("exporter", [ServicePort(80, target_port=9100)],
                          selector={"app": "exporter"})
    slice_ = next(s for s in lab.api.list("EndpointSlice", "default")
                  if s.metadata.labels.get("kubernetes.io/service-name") == "exporter")
    assert [e.address for e in slice_.endpoints] == ["172.18.0.3"]
    trace = send(lab, "pod/client", "svc/exporter")
    assert trace.verdict == "delivered"
    assert trace.delivered_to.namespace == "node/kind-worker2"


async def test_deleting_it_closes_its_port_and_leaves_the_node(lab):
    await lab.add_pod("exporter", AGENT, node_name="kind-worker2", host_network=True)
    await lab.delete_pod("exporter")
    await lab.finish_terminations()
    assert "node/kind-worker2" in lab.network.namespaces
    assert send(lab, "pod/client", "172.18.0.3", port=9100).verdict == "rejected"


async def test_two_on_one_port_are_spread_and_a_third_does_not_fit(lab):
    a = await lab.add_pod("a", AGENT, host_network=True)
    b = await lab.add_pod("b", AGENT, host_network=True)
    assert {a.spec.node_name, b.spec.node_name} == {"kind-worker", "kind-worker2"}
    with pytest.raises(ClusterError, match="2 node\\(s\\) didn't have free ports"):
        await lab.add_pod("c", AGENT, host_network=True)


async def test_a_port_the_node_itself_holds_cannot_be_taken(lab):
    kubelet = [Container("x", "nginx", [ContainerPort(10250)])]
    with pytest.raises(ClusterError, match="address already in use \\(held by kubelet\\)"):
        await lab.add_pod("x", kubelet, node_name="kind-worker", host_network=True)
    assert lab.api.peek("Pod", "default", "x") is None


async def test_a_host_port_other_than_the_container_port_is_refused(lab):
    containers = [Container("agent", "nginx", [ContainerPort(9100, None, "TCP", 9200)])]
    with pytest.raises(ClusterError, match=re.escape(
            'The Pod "x" is invalid: spec.containers[0].ports[0].hostPort: Invalid value: '
            "9200: must match `containerPort` when `hostNetwork` is true")):
        await lab.add_pod("x", containers, host_network=True)


async def test_a_manifest_pod_on_the_host_network(lab, tmp_path):
    path = tmp_path / "agent.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec:\n"
                    "  hostNetwork: true\n  containers:\n  - name: agent\n    image: x\n"
                    "    ports: [{containerPort: 9100}]\n")
    await apply_files(lab, [str(path)])
    assert lab.find_pod("agent").status.pod_ip in ("172.18.0.2", "172.18.0.3")


async def test_kubectl_run_takes_host_network_in_overrides(lab):
    shell = Shell(lab)
    await shell.run("kubectl run dbg --image=busybox --port=8080 "
                    """--overrides='{"spec":{"hostNetwork":true,"nodeName":"kind-worker"}}'""")
    assert lab.find_pod("dbg").status.pod_ip == "172.18.0.2"
    with pytest.raises(ShellError, match="spec.hostNetwork \\(true or false\\)"):
        await shell.run("""kubectl run x --image=a --overrides='{"spec":{"hostNetwork":1}}'""")


async def test_kubectl_run_port_given_twice_takes_the_last_as_kubectl_does(lab):
    """--port is a StringVar in kubectl run (run.go): pflag keeps the last value."""
    shell = Shell(lab)
    await shell.run("kubectl run a --image=nginx --port=80 --port=80")
    await shell.run("kubectl run b --image=nginx --port=80 --port=81")
    assert [p.container_port for p in lab.find_pod("a").spec.containers[0].ports] == [80]
    assert [p.container_port for p in lab.find_pod("b").spec.containers[0].ports] == [81]


async def test_a_lab_with_host_network_and_host_port_pods_reopens_equal(lab, tmp_path):
    await lab.add_pod("exporter", AGENT, node_name="kind-worker2", host_network=True)
    await lab.add_pod("hp", [Container("web", "nginx", [ContainerPort(80, None, "TCP", 8080)])],
                      node_name="kind-worker")
    original = Lab(lab)
    await original.run("trace pod/client pod/exporter")
    await original.run("trace pod/web-1 172.18.0.2 --port 8080")
    path = tmp_path / "host.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert pack_lab(loaded) == pack_lab(original)
        for node in ("kind-worker", "kind-worker2"):
            assert (await loaded.run("iptables-save", f"node/{node}")).output == \
                (await original.run("iptables-save", f"node/{node}")).output
        assert (await loaded.run("trace pod/web-1 172.18.0.2 --port 8080")).output == \
            (await original.run("trace pod/web-1 172.18.0.2 --port 8080")).output
        assert send(loaded.cluster, "pod/client", "pod/exporter").delivered_to.namespace == \
            "node/kind-worker2"
    finally:
        await loaded.close()
