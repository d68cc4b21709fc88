"""One lab per idea of the seed, built from code: the objects it needs and its key flow.

`make_saves` writes each to saves/; the guided lessons start from the same labs, without
the flow, so that the learner sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from playground.cluster.cluster import Cluster
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.lab import build_default_lab, web
from playground.cluster.metallb_objects import (
    IPAddressPool,
    L2Advertisement,
    validate_advertisement,
    validate_pool,
)
from playground.cluster.objects import ObjectMeta
from playground.cluster.service import ServicePort
from playground.labs.dns_scenarios import CONFIG, TYPO_URL, client_configured_with_a_typo
from playground.labs.netpol_scenarios import deny_all_on_bridge, shop_and_frontend
from playground.session.lab import Lab

INGRESS_LB = "lb/ingress-nginx/ingress-nginx-controller"


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    summary: str
    flow: list[str]  # the key flow, as command lines
    cni: str = "bridge"
    proxy_mode: str = "iptables"
    lb: str = "cloud"
    setup: Callable[[Cluster], Awaitable[None]] | None = None
    tweaks: list[tuple[str, str]] = field(default_factory=list)  # (node tool line, node)

    async def build(self, with_flow: bool = True) -> Lab:
        cluster = await build_default_lab(cni=self.cni, proxy_mode=self.proxy_mode,
                                          lb=self.lb)
        try:
            if self.setup is not None:
                await self.setup(cluster)
            lab = Lab(cluster)
            for line, node in self.tweaks:
                await lab.run(line, node)
            for line in self.flow if with_flow else []:
                await lab.run(line)
        except BaseException:
            await cluster.stop()
            raise
        return lab


async def _shop_behind_two_load_balancers(cluster: Cluster) -> None:
    await cluster.add_deployment("shop", web("shop"), replicas=1)
    for policy in ("Cluster", "Local"):
        await cluster.add_service(f"shop-{policy.lower()}", [ServicePort(80, "http",
                                                                         name="http")],
                                  selector={"app": "shop"}, type="LoadBalancer",
                                  external_traffic_policy=policy)


async def _shop_behind_metallb(cluster: Cluster) -> None:
    """kind's usual MetalLB layer-2 setup (a pool on the node network, one L2Advertisement),
    then the shop behind both policies."""
    await cluster.add_recipe_object(IPAddressPool(ObjectMeta("kind-pool", "metallb-system"),
                                                  ["172.18.255.200-172.18.255.250"]),
                                    validate_pool)
    await cluster.add_recipe_object(L2Advertisement(ObjectMeta("empty", "metallb-system")),
                                    lambda advertisement, _: validate_advertisement(
                                        advertisement))
    await _shop_behind_two_load_balancers(cluster)


async def _two_sites_behind_one_ingress(cluster: Cluster) -> None:
    rules = []
    for site in ("blog", "docs"):
        await cluster.add_deployment(site, web(site), replicas=1)
        await cluster.add_service(site, [ServicePort(80, "http", name="http")],
                                  selector={"app": site})
        rules.append(IngressRule([IngressPath(IngressBackend(site, 80))],
                                 host=f"{site}.example.com"))
    await cluster.add_ingress(Ingress(ObjectMeta("sites", "default"), rules))


async def _service_selecting_nothing(cluster: Cluster) -> None:
    await cluster.add_deployment("shop", web("shop"), replicas=2)
    await cluster.add_service("shop", [ServicePort(80, "http", name="http")],
                              selector={"app": "shop-v2"})


async def _ten_services(cluster: Cluster) -> None:
    """Seven Services besides the lab's three, all on one small Deployment: ten in all."""
    await cluster.add_deployment("echo", web("echo"), replicas=1)
    for number in range(CROWD_START):
        await cluster.add_service(f"app-{number}", [ServicePort(80, "http", name="http")],
                                  selector={"app": "echo"})


async def _coredns_scaled_to_zero(cluster: Cluster) -> None:
    await cluster.scale("coredns", 0, "kube-system")


CROWD_START = 7  # Services the service-crowd lab adds to the default lab's three
CROWD_MORE = 9_990  # and saves/service-crowd.yaml adds: 10,000 in all


def crowd_manifest(count: int = CROWD_MORE) -> str:
    """saves/service-crowd.yaml: Services named to sort before web, all on the echo pod."""
    header = (f"# {count:,} more Services in front of web (their names sort before it): with "
              "the lab's ten,\n# 10,000, the most Kubernetes is documented to handle. For "
              "the iptables-at-scale\n# guided lab: kubectl apply -f saves/service-crowd.yaml\n")
    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: crowd-{:04d}\nspec:\n"
               "  selector:\n    app: echo\n  ports:\n  - port: 80\n    targetPort: 80\n")
    return header + "---\n".join(service.format(number) for number in range(count))

SCENARIOS = [
    Scenario("flat-network", "The flat network",
             "every pod reaches every pod and node by its own address, no NAT",
             ["trace pod/client pod/web-1", "trace node/kind-worker pod/web-1"]),
    Scenario("cni-bridge", "CNI wiring: bridge",
             "the bridge plugin puts every pod's veth on cni0",
             ["trace pod/client pod/web-2"]),
    Scenario("cni-ptp", "CNI wiring: ptp",
             "the ptp plugin gives every pod a veth and a host route, no bridge",
             ["trace pod/client pod/web-2"], cni="ptp"),
    Scenario("cni-vxlan", "CNI wiring: vxlan",
             "flannel's flannel.1 wraps the frame in UDP from node to node",
             ["trace pod/client pod/web-1", "reply"], cni="vxlan"),
    Scenario("container-to-container", "Container to container",
             "two containers of one pod share its namespace and talk over localhost",
             ["trace pod/app:sidecar 127.0.0.1 --port 8080"]),
    Scenario("pod-to-pod-same-node", "Pod to pod on one node",
             "veth to the node, across cni0, veth into the other pod",
             ["trace pod/client pod/web-2", "reply"]),
    Scenario("pod-to-pod-across-nodes", "Pod to pod across nodes",
             "the node's route for the other node's pod CIDR sends it over eth0",
             ["trace pod/client pod/web-1", "reply"]),
    Scenario("pod-to-service", "Pod to Service",
             "kube-proxy's rules rewrite the ClusterIP to a pod; the reply is rewritten back",
             ["trace pod/client svc/web", "reply"]),
    Scenario("pod-to-service-ipvs", "Pod to Service, kube-proxy in IPVS mode",
             "the ClusterIP is an address of the node; IPVS picks a pod at LOCAL_IN and "
             "un-NATs the reply from its connection table",
             ["trace pod/client svc/web", "reply"], proxy_mode="ipvs"),
    Scenario("pod-to-service-nftables", "Pod to Service, kube-proxy in nftables mode",
             "a verdict map finds the Service in one lookup; an endpoint chain's dnat picks "
             "the pod; conntrack un-NATs the reply",
             ["trace pod/client svc/web", "reply"], proxy_mode="nftables"),
    Scenario("egress", "Egress to the internet",
             "the node masquerades the pod, the VPC gateway maps the node to a public IP",
             ["trace pod/client internet", "reply"]),
    Scenario("loadbalancer", "LoadBalancer ingress, both traffic policies",
             "a cloud LB sends to nodes; Local keeps the client IP, Cluster may hop and SNAT",
             ["trace internet lb/shop-cluster", "trace internet lb/shop-local"],
             setup=_shop_behind_two_load_balancers),
    Scenario("metallb", "MetalLB layer 2, both traffic policies",
             "one elected node answers ARP for each address; Local elects a node with a pod",
             ["trace internet lb/shop-cluster", "trace internet lb/shop-local"],
             lb="metallb", setup=_shop_behind_metallb),
    Scenario("ingress", "One Ingress for many Services",
             "one load balancer, one controller, routed by Host to two Services",
             [f"trace internet {INGRESS_LB} --host blog.example.com",
              f"trace internet {INGRESS_LB} --host docs.example.com"],
             setup=_two_sites_behind_one_ingress),
    Scenario("broken-selector", "Break-fix: a Service that rejects",
             "svc/shop selects app=shop-v2, and no pod has that label",
             ["trace pod/client svc/shop"], setup=_service_selecting_nothing),
    Scenario("cilium", "Cilium: Services in eBPF",
             "no kube-proxy: the socket dials the backend, eth0's program serves the LB",
             ["trace pod/client svc/web", "reply", "trace internet lb/shop-cluster",
              "trace internet lb/shop-local"], cni="cilium",
             setup=_shop_behind_two_load_balancers),
    Scenario("service-crowd", "Ten Services, and room for many more",
             "every Service is one more rule in KUBE-SERVICES for each packet to walk past",
             ["trace pod/client svc/web"], setup=_ten_services),
    Scenario("dns", "What `curl web` really sends",
             "the pod's resolver asks kube-dns first, through kube-proxy's DNAT to CoreDNS",
             ["trace pod/client web"]),
    Scenario("dns-down", "Break-fix: no CoreDNS",
             "coredns is scaled to 0: kube-proxy rejects every question to kube-dns",
             ["trace pod/client web"], setup=_coredns_scaled_to_zero),
    Scenario("dns-typo", "Break-fix: a name with a typo",
             f"pod/client's {CONFIG} says {TYPO_URL}: NXDOMAIN for every name of the search "
             "list", [f"trace pod/client {TYPO_URL}"], setup=client_configured_with_a_typo),
    Scenario("netpol-namespaces", "NetworkPolicy: default deny, then one namespace in",
             "shop/api behind a default deny, opened to the pods of namespace frontend",
             ["trace pod/frontend/web pod/shop/api", "trace pod/client pod/shop/api"],
             cni="ptp", setup=shop_and_frontend),
    Scenario("netpol-no-effect", "Break-fix: a NetworkPolicy with no effect",
             "default/deny-all selects every pod, and the bridge CNI enforces none of it",
             ["trace pod/client pod/web-1"], setup=deny_all_on_bridge),
    Scenario("missing-route", "Break-fix: a node without a pod-CIDR route",
             "kind-worker lost its route to kind-worker2's pods",
             ["trace pod/client pod/web-1"],
             tweaks=[("ip route del 10.244.2.0/24", "node/kind-worker")]),
]
BY_ID = {scenario.id: scenario for scenario in SCENARIOS}
