"""The flow log: each packet's crossings, translations and drops as `hubble observe` shows
them, computed from the hops of real traces through the default lab."""

from __future__ import annotations

import json
import re

import pytest

from playground.cli import main
from playground.cluster.flows.drops import POLICY_DENIED, UNKNOWN, drop_reason
from playground.cluster.flows.filters import FlowFilter, duration
from playground.cluster.flows.hubble import compact, json_line, stamp
from playground.cluster.flows.log import flows_of, journal_traces
from playground.session.lab import Lab

EMPTY = """apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
"""


def _run(capsys, *argv) -> list[str]:
    assert main(["flows", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_a_service_connection_is_seen_leaving_translated_crossing_and_arriving(capsys):
    lines = _run(capsys, "--send", "pod/client svc/web", "--print-node-name")
    kinds = [line.split(") ", 2)[2].rsplit(" (", 1)[0] for line in lines]
    assert kinds == ["to-stack FORWARDED", "post-xlate-fwd TRANSLATED", "to-network FORWARDED",
                     "from-network FORWARDED", "to-endpoint FORWARDED"]
    first, _, _, _, last = lines
    assert first.startswith("Jan  1 00:00:13.000 [kind-worker]: default/client:")
    assert "-> default/web:80 (world) to-stack" in first   # the ClusterIP, named as its Service
    assert last.startswith("Jan  1 00:00:13.000 [kind-worker2]: ")
    assert "-> default/web-1:80 (ID:" in last and last.endswith("(TCP Flags: SYN)")


def test_json_is_one_get_flows_response_per_line(capsys):
    lines = _run(capsys, "--send", "pod/client svc/web", "-o", "json", "--to-service", "web")
    records = [json.loads(line) for line in lines]
    assert [r["flow"]["verdict"] for r in records] == ["FORWARDED", "TRANSLATED"]
    flow = records[0]["flow"]
    assert records[0]["node_name"] == flow["node_name"] == "kind-worker"
    assert records[0]["time"] == flow["time"] == "2026-01-01T00:00:13Z"
    assert flow["destination_service"] == {"name": "web", "namespace": "default"}
    assert flow["source"]["pod_name"] == "client"
    assert "k8s:io.kubernetes.pod.namespace=default" in flow["source"]["labels"]
    assert flow["destination"] == {"identity": 2, "labels": ["reserved:world"]}
    assert flow["l4"]["TCP"]["flags"] == {"SYN": True}
    assert flow["trace_observation_point"] == "TO_STACK"
    assert flow["event_type"] == {"type": 4, "sub_type": 3}
    assert flow["traffic_direction"] == "EGRESS" and flow["is_reply"] is False
    assert records[1]["flow"]["IP"]["destination"].startswith("10.244.")   # the backend


def test_a_refused_connection_shows_the_reset_coming_back(capsys):
    lines = _run(capsys, "--send", "pod/client pod/web-1 --port 81", "--pod", "web-1")
    assert all("default/web-1:81" in line for line in lines)
    resets = [line for line in lines if "<-" in line]
    assert resets and all(line.endswith("(TCP Flags: ACK, RST)") for line in resets)
    assert not any("DROPPED" in line for line in lines)


def test_a_service_without_endpoints_is_dropped_with_hubbles_reason(capsys, tmp_path):
    manifest = tmp_path / "empty.yaml"
    manifest.write_text(EMPTY)
    lines = _run(capsys, "-f", str(manifest), "--send", "pod/client svc/empty",
                 "--verdict", "dropped")
    assert len(lines) == 1
    assert re.search(r"default/client:\d+ \(ID:\d+\) <> default/empty:80 \(world\) "
                     r"Service backend not found DROPPED \(TCP Flags: SYN\)$", lines[0])


def test_a_cilium_labs_flows_name_the_identities_its_agent_allocated(capsys):
    lines = _run(capsys, "--cni", "cilium", "--send", "pod/client pod/web-1")
    flow_ids = set(re.findall(r"default/(client|web-1):\d+ \(ID:(\d+)\)", "\n".join(lines)))
    assert main(["show", "cilium", "node/kind-worker", "identity", "list", "--cni", "cilium"]) == 0
    listing = capsys.readouterr().out
    agent = {(m.group(1), m.group(2)) for m in re.finditer(r"^(\d+)\s+k8s:app=(\S+)$",
                                                              listing, re.M)}
    pod_of_app = {"client": "client", "web": "web-1"}
    assert flow_ids == {(pod_of_app[app], number) for number, app in agent if app in pod_of_app}
    assert len(flow_ids) == 2


def test_overlay_crossings_carry_the_inner_packet(capsys):
    lines = _run(capsys, "--cni", "vxlan", "--send", "pod/client pod/web-1")
    points = [line.split(" (ID:")[2].split(") ")[1].split(" ")[0] for line in lines]
    assert points == ["to-stack", "to-overlay", "from-overlay", "to-endpoint"]


def test_bad_input_is_one_line(capsys):
    assert main(["flows", "--since", "soon"]) == 2
    assert capsys.readouterr().err.startswith("error: --since: 'soon' is not a duration")
    assert main(["flows", "--verdict", "LOST"]) == 2
    assert "--verdict: 'LOST' is not one of FORWARDED, DROPPED, TRANSLATED" in \
        capsys.readouterr().err
    assert main(["flows", "--send", "pod/nobody svc/web"]) == 2
    assert capsys.readouterr().err.startswith("error: --send 'pod/nobody svc/web': ")


async def test_filters_and_since_read_the_lab_clock(lab):
    lab = Lab(lab)
    await lab.run("trace pod/client svc/web")
    lab.cluster.network.clock += 60
    await lab.run("trace pod/client pod/web-2")
    flows = flows_of(lab.cluster, journal_traces(lab.history))
    now = lab.cluster.network.clock
    recent = [f for f in flows if FlowFilter(since=duration("30s"), now=now).matches(f)]
    assert {str(f.packet.dst) for f in recent} == {"10.244.1.3"}
    assert all(FlowFilter(pod="web-2").matches(f) for f in recent)
    assert not any(FlowFilter(namespace="kube-system").matches(f) for f in flows)
    assert stamp(now) == "Jan  1 00:01:13.000"
    assert json.loads(json_line(recent[0]))["flow"]["time"] == "2026-01-01T00:01:13Z"
    assert compact(recent[-1]).split(": ", 1)[1].startswith("default/client:")


@pytest.mark.parametrize("text, reason", [
    ("Policy denied by default/deny-all", POLICY_DENIED),
    ("dropped by filter/KUBE-NWPLCY-ABC in node/kind-worker", POLICY_DENIED),
    ("dropped by filter/CUSTOM in node/kind-worker", UNKNOWN),
    ("nothing listening on tcp port 81 in pod/default/web-1", None),
])
def test_the_drop_table(text, reason):
    assert drop_reason([text]) == reason


async def test_the_answer_reads_client_from_server(lab):
    lab = Lab(lab)
    await lab.run("trace pod/client svc/web")
    await lab.run("reply")
    flows = flows_of(lab.cluster, journal_traces(lab.history))
    answers = [f for f in flows if f.is_reply]
    assert answers and all(str(f.packet.src) != "10.244.1.2" for f in answers)
    lines = [compact(f) for f in answers]
    assert all(" <- " in line and "default/client:" in line.split(" <- ")[0] for line in lines)
    assert any("post-xlate-rev TRANSLATED" in line and "<- default/web:80" in line
               for line in lines)   # un-DNAT: the answer comes from the Service address again
    # the connection's direction, as Hubble tells it: the client's, outwards, answers too
    assert answers[-1].point == "to-endpoint" and answers[-1].direction == "EGRESS"


POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-APP}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: APP}}
    ports: [{port: 80}]
"""


@pytest.mark.parametrize("cni", ["cilium", "cilium-vxlan"])
def test_a_policy_verdict_is_logged_where_cilium_enforces_it(capsys, tmp_path, cni):
    denied, allowed = tmp_path / "denied.yaml", tmp_path / "allowed.yaml"
    denied.write_text(POLICY.replace("APP", "api"))
    allowed.write_text(POLICY.replace("APP", "client"))
    lines = _run(capsys, "--cni", cni, "-f", str(denied), "--send", "pod/client pod/web-1")
    verdicts = [line for line in lines if "policy-verdict" in line]
    assert len(verdicts) == 1 and verdicts[0].endswith(
        "-> default/web-1:80 (ID:55652) policy-verdict:none INGRESS DENIED (TCP Flags: SYN)")
    assert lines[-1].endswith("Policy denied DROPPED (TCP Flags: SYN)")
    lines = _run(capsys, "--cni", cni, "-f", str(allowed), "--send", "pod/client pod/web-1",
                 "-o", "json")
    flows = [json.loads(line)["flow"] for line in lines]
    verdict = [f for f in flows if f["event_type"] == {"type": 9}]
    assert len(verdict) == 1   # the new connection's ingress: no policy selects client's egress
    assert verdict[0]["verdict"] == "FORWARDED" and verdict[0]["policy_match_type"] == 2
    assert verdict[0]["traffic_direction"] == "INGRESS"
    assert flows[-1]["trace_observation_point"] == "TO_ENDPOINT"   # then delivered


def test_no_policy_verdict_where_no_policy_is_enforced(capsys, tmp_path):
    denied = tmp_path / "denied.yaml"
    denied.write_text(POLICY.replace("APP", "api"))
    for cni in ("cilium", "bridge"):
        extra = ["-f", str(denied)] if cni == "bridge" else []
        lines = _run(capsys, "--cni", cni, *extra, "--send", "pod/client pod/web-1")
        assert lines and not any("policy-verdict" in line for line in lines)
