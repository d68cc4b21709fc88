"""saves/: the script makes the committed files byte for byte, and each file loads and its
key flow goes through the mechanism the lab is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.labs import checks as c
from playground.labs.catalogue import BY_ID
from playground.labs.dns_scenarios import MANIFESTS as DNS_MANIFESTS
from playground.labs.netpol_scenarios import MANIFESTS
from playground.labs.scenarios import SCENARIOS, crowd_manifest
from playground.saves import SUFFIX, load_lab
from playground.tools.make_saves import ingress_migration, lab_bytes

SAVES = Path(__file__).resolve().parents[2] / "saves"  # the committed labs


def lesson_tasks(lesson: str, *tasks: str):
    return [BY_ID[lesson].task(task).check for task in tasks]


EXPECTED = {
    "flat-network": lesson_tasks("flat-network", "pod-to-pod", "node-to-pod"),
    "cni-bridge": [lambda lab: c.traced(lab, "pod/client", "pod/web-2", "delivered",
                                        c.bridged)],
    "cni-ptp": lesson_tasks("cni-ptp", "routed"),
    "cni-vxlan": [lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                       c.tunnelled),
                  lambda lab: c.replied(lab, "pod/client", c.tunnelled)],
    "container-to-container": lesson_tasks("container-to-container", "localhost"),
    "pod-to-pod-same-node": lesson_tasks("pod-to-pod-same-node", "across-the-bridge",
                                         "reply"),
    "pod-to-pod-across-nodes": lesson_tasks("pod-to-pod-across-nodes", "across", "reply"),
    "pod-to-service": lesson_tasks("pod-to-service", "dnat", "reply"),
    "pod-to-service-ipvs": [
        lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                             lambda t: bool(t.events("ipvs"))),
        lambda lab: lab.cluster.proxy_mode == "ipvs"],
    "pod-to-service-nftables": [
        lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                             c.rewritten_by("endpoint-")),
        lambda lab: c.replied(lab, "pod/client", c.from_address(lab, "svc/web")),
        lambda lab: lab.cluster.proxy_mode == "nftables"],
    "egress": lesson_tasks("egress", "out", "back"),
    "dns": lesson_tasks("dns", "short-name"),
    "loadbalancer": lesson_tasks("loadbalancer", "cluster", "local"),
    "metallb": lesson_tasks("lb-providers", "cluster", "local"),
    "ingress": lesson_tasks("ingress", "blog", "docs"),
    "broken-selector": lesson_tasks("broken-selector", "see-reject"),
    "missing-route": lesson_tasks("missing-route", "find"),
    "cilium": [lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                                    c.program_rewrote("cil_sock4_connect")),
               lambda lab: c.replied(lab, "pod/client"),
               lambda lab: c.traced(lab, "internet", "lb/shop-cluster", "delivered",
                                    c.program_rewrote("cil_from_netdev")),
               lambda lab: c.traced(lab, "internet", "lb/shop-local", "delivered",
                                    c.program_rewrote("cil_from_netdev"))],
    "service-crowd": lesson_tasks("iptables-at-scale", "ten"),
    "dns-down": lesson_tasks("dns-down", "see-reject")
    + [lambda lab: not c.service_has_endpoints(lab, "kube-system", "kube-dns")],
    "dns-typo": lesson_tasks("dns-typo", "see-nxdomain")
    + [lambda lab: not c.config_names_service(lab, "default", "client-config", "BACKEND_URL")],
    "netpol-namespaces": [lambda lab: c.traced(lab, "pod/frontend/web", "pod/shop/api"),
                          lambda lab: c.traced(lab, "pod/client", "pod/shop/api"),
                          lambda lab: lab.cluster.network_policies() == []],
    "netpol-no-effect": lesson_tasks("netpol-no-effect", "delivered")
    + [lambda lab: [p.key for p in lab.cluster.network_policies()] == ["default/deny-all"]],
}


def test_the_script_writes_the_lessons_manifests():
    for name, text in {**MANIFESTS, **DNS_MANIFESTS}.items():
        assert (SAVES / name).read_text() == text


def test_every_scenario_has_a_file_and_an_expectation():
    assert set(EXPECTED) == {s.id for s in SCENARIOS}
    assert {p.name for p in SAVES.glob(f"*{SUFFIX}")} == {f"{s.id}{SUFFIX}" for s in SCENARIOS}


def test_the_script_makes_the_committed_crowd_of_services():
    text = (SAVES / "service-crowd.yaml").read_text()
    assert text == crowd_manifest() and text.count("kind: Service") == 9_990


async def test_the_script_makes_the_committed_ingress_migration():
    text = (SAVES / "ingress-to-gateway.yaml").read_bytes()
    assert text == await ingress_migration()
    assert text.count(b"kind: HTTPRoute") == 2


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
async def test_the_script_makes_the_committed_file(scenario):
    assert await lab_bytes(scenario) == (SAVES / f"{scenario.id}{SUFFIX}").read_bytes()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
async def test_each_save_loads_and_its_key_flow_traces(scenario):
    lab = await load_lab(SAVES / f"{scenario.id}{SUFFIX}")
    try:
        assert [a.line for a in lab.history if a.traces] == scenario.flow
        assert all(check(lab) for check in EXPECTED[scenario.id])
    finally:
        await lab.close()
