"""kubeadm's exclude-from-external-load-balancers label, read as each upstream reads it: the
service controller parses its value as a Go bool (the cloud, cloud-provider-kind), MetalLB's
speaker only asks whether the key is there."""

from __future__ import annotations

import pytest

from playground.cluster.cloud import LB_NAMESPACE, LB_POOL
from playground.cluster.objects import Node, ObjectMeta
from playground.cluster.service import ServicePort
from playground.lb.exclusion import service_controller_excludes, speaker_excludes
from playground.shell import Shell

KEY = "node.kubernetes.io/exclude-from-external-load-balancers"


@pytest.mark.parametrize(("value", "controller", "speaker"), [
    ("", True, True),          # kubeadm's: "" is no Go bool, so it excludes
    ("true", True, True), ("1", True, True), ("T", True, True),
    ("false", False, True), ("0", False, True), ("False", False, True),
    ("maybe", True, True), (None, False, False)])
def test_the_two_readings_of_the_label(value, controller, speaker):
    node = Node(ObjectMeta("n", labels={} if value is None else {KEY: value}))
    assert service_controller_excludes(node) is controller
    assert speaker_excludes(node) is speaker


def nexthops(lab) -> list[str]:
    routes = [r.text() for r in lab.network.namespace(LB_NAMESPACE).main.routes()
              if r.prefix.subnet_of(LB_POOL)]
    return sorted(part.split()[2] for r in routes for part in r.split("\n")
                  if "nexthop via" in part)


async def test_the_cloud_balancer_leaves_the_control_plane_out_until_told_false(lab):
    control = next(n for n in lab.nodes() if n.name == "kind-control-plane")
    assert control.metadata.labels[KEY] == ""   # kubeadm's label, as kind's node has it
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    assert nexthops(lab) == ["172.18.0.2", "172.18.0.3"]
    await Shell(lab).run(f"kubectl label node kind-control-plane {KEY}=false --overwrite")
    assert nexthops(lab) == ["172.18.0.2", "172.18.0.3", "172.18.0.4"]
