"""What verify sends, read from the lab (no kernel needed)."""

from ipaddress import IPv4Address

from playground.cluster.service import ServicePort
from playground.verify.probes import probes


async def test_nodeports_from_inside_lbs_from_pods_and_affinity_twice(lab):
    await lab.add_service("web-np", [ServicePort(80, "http", name="http", node_port=30080)],
                          selector={"app": "web"}, type="NodePort")
    await lab.add_service("shop", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    await lab.add_service("sticky", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, session_affinity="ClientIP")
    sent = probes(lab)
    from_worker = [(p.target_label, p.dst) for p in sent if p.kind == "node→nodeport"
                   and p.source == "node/kind-worker" and p.dport == 30080]
    assert from_worker == [("node/kind-worker(default/web-np)", IPv4Address("172.18.0.2")),
                           ("node/kind-worker2(default/web-np)", IPv4Address("172.18.0.3"))]
    last = [p.target_label for p in sent if p.kind == "node→nodeport"
            and p.source == "node/kind-worker2" and p.dport == 30080]
    assert last == ["node/kind-worker2(default/web-np)",
                    "node/kind-control-plane(default/web-np)"], "the next node wraps around"
    client = [p.target_label for p in sent if p.kind == "pod→nodeport"
              and p.source_label == "pod/default/client" and p.dport == 30080]
    assert client == ["node/kind-worker(default/web-np)", "node/kind-worker2(default/web-np)"]
    lb = next(s for s in lab.services() if s.name == "shop").status.load_balancer_ips[0]
    assert [p.dst for p in sent if p.kind == "pod→lb"
            and p.source_label == "pod/default/client"] == [IPv4Address(lb)]
    kinds = [p.kind for p in sent if p.source_label == "pod/default/client"
             and p.target_label == "svc/default/sticky"]
    assert kinds == ["pod→svc", "pod→svc again"]
    again = next(p for p in sent if p.kind == "pod→svc again")
    assert again.label.endswith("tcp/80 (again)")
    assert len({p.sport for p in sent}) == len(sent), "one source port per probe"
