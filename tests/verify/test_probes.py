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


def test_every_pod_asks_kube_dns_for_every_service_and_a_missing_name(lab):
    from playground.verify.probes import dns_records
    found = [p for p in probes(lab) if p.question]
    assert len(found) == 6 * 5 and {p.dst for p in found} == {IPv4Address("10.96.0.10")}
    assert {(p.question, p.dport) for p in found if p.proto == "tcp"} == {
        ("kubernetes.default.svc.cluster.local.", 53)}   # one name again over TCP
    web = lab.api.peek("Service", "default", "web").spec.cluster_ip
    assert dns_records(found)["web.default.svc.cluster.local."] == f"NOERROR {web}"
    assert dns_records(found)["nope.default.svc.cluster.local."] == "NXDOMAIN"
    assert len({p.sport for p in probes(lab)}) == len(probes(lab))  # one tuple per probe


def test_a_wrong_dns_answer_or_source_is_a_mismatch(lab):
    from dataclasses import replace

    from playground.verify.compare import Observation, differences
    from playground.verify.predict import predict
    probe = next(p for p in probes(lab) if p.question == "web.default.svc.cluster.local.")
    outcome = predict(lab.network, probe)[0]
    right = Observation("reached", outcome.server, outcome.peer, outcome.entries,
                        probe.answer, outcome.answered_from)
    assert differences(outcome, right, probe) == []
    wrong = replace(right, answer="NXDOMAIN")
    assert differences(outcome, wrong, probe) == [
        f"DNS answer: model {probe.answer}, kernel NXDOMAIN"]
    stray = replace(right, answered_from=(IPv4Address("10.244.0.2"), 53))
    assert differences(outcome, stray, probe)[0].startswith("answer from: model 10.96.0.10:53")
