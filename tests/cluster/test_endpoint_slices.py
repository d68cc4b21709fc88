"""EndpointSlices as objects: written by hand for a Service without a selector (with their
conditions, node and zone), and kept by the controller for one with a selector, one slice
per set of port numbers its pods give a named port."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.kube_yaml import manifests
from playground.cluster.manifests import apply_files
from playground.cluster.objects import Container, ContainerPort
from playground.cluster.service import ServicePort, slices_of
from playground.cluster.tables import endpoint_slices_table

HAND_MADE = """
apiVersion: v1
kind: Service
metadata: {name: legacy}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: legacy-1
  labels: {kubernetes.io/service-name: legacy}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
- addresses: [10.244.1.200]
  conditions: {ready: true}
  nodeName: kind-worker
  zone: zone-a
- addresses: [10.244.2.200]
  conditions: {ready: false, serving: true, terminating: true}
  nodeName: kind-worker2
"""


def manifest(tmp_path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return str(path)


async def test_a_hand_made_slice_gives_a_selectorless_service_its_endpoints(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, HAND_MADE)])
    (found,) = slices_of(lab.api, "default", "legacy")
    assert [(e.address, e.ready, e.serving, e.terminating, e.node_name, e.zone)
            for e in found.endpoints] == [
        ("10.244.1.200", True, True, False, "kind-worker", "zone-a"),
        ("10.244.2.200", False, True, True, "kind-worker2", None)]
    table = endpoint_slices_table(lab, "default")
    assert re.search(r"legacy-1\s+IPv4\s+8080\s+10.244.1.200,10.244.2.200", table)
    node = lab.nodes()[1].name
    nat = lab.node_namespace(node).netfilter.save(["nat"])
    # only the ready endpoint is used while there is one
    assert "--to-destination 10.244.1.200:8080" in nat
    assert "--to-destination 10.244.2.200:8080" not in nat
    exported = manifests(lab)
    assert "kind: EndpointSlice" in exported and "legacy-1" in exported


@pytest.mark.parametrize("change, message", [
    ("addressType: IPv4", "addressType: Required value"),
    ("- addresses: [10.244.1.200]", "endpoints[0].addresses: Required value: must contain at "
     "least 1 address"),
    ("addresses: [10.244.1.200]", 'endpoints[0].addresses[0]: Invalid value: "300.1.1.1": '
     "must be a valid IPv4 address"),
    ("protocol: TCP", 'ports[0].protocol: Unsupported value: "ICMP"'),
])
async def test_the_api_servers_refusals(lab, tmp_path, change, message):
    replacement = {"addressType: IPv4": "",
                   "- addresses: [10.244.1.200]": "- addresses: []",
                   "addresses: [10.244.1.200]": "addresses: [300.1.1.1]",
                   "protocol: TCP": "protocol: ICMP"}[change]
    text = HAND_MADE.replace(change, replacement, 1)
    with pytest.raises(ClusterError, match=re.escape(message)):
        await apply_files(lab, [manifest(tmp_path, text)])
    assert lab.api.peek("Service", "default", "legacy") is None   # all or nothing


async def test_a_named_port_is_resolved_per_pod_one_slice_per_port_set(lab):
    await lab.add_pod("a", [Container("c", ports=[ContainerPort(8080, "http")])],
                      labels={"app": "mixed"})
    await lab.add_pod("b", [Container("c", ports=[ContainerPort(9090, "http")])],
                      labels={"app": "mixed"})
    await lab.add_pod("c", [Container("c", ports=[ContainerPort(7070, "other")])],
                      labels={"app": "mixed"})
    await lab.add_service("mixed", [ServicePort(80, "http", name="http")],
                          selector={"app": "mixed"})
    slices = slices_of(lab.api, "default", "mixed")
    by_ports = {tuple(p.port for p in s.ports): sorted(e.target for e in s.endpoints)
                for s in slices}
    assert by_ports == {(8080,): ["default/a"], (9090,): ["default/b"], (): ["default/c"]}
    assert all(s.name.startswith("mixed-") for s in slices)
    nat = lab.node_namespace(lab.nodes()[1].name).netfilter.save(["nat"])
    pods = {p.name: p.status.pod_ip for p in lab.pods()}
    assert f"--to-destination {pods['a']}:8080" in nat
    assert f"--to-destination {pods['b']}:9090" in nat
    assert f"--to-destination {pods['c']}:" not in nat   # it has no port named http
