"""`k8s-playground reach`: the truth table, --why, --json, and bad input in one line."""

import json

from playground.cli import main
from playground.policy.none import NoPolicyEngine

POLICIES = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    ports:
    - port: http
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def policies(tmp_path):
    path = tmp_path / "policies.yaml"
    path.write_text(POLICIES)
    return str(path)


def row(out, pod):
    return next(line for line in out.splitlines() if line.startswith(pod + " ")).split()[1:]


def test_bridge_allows_every_cell_and_says_why(capsys, tmp_path):
    code, out, _ = run(capsys, "reach", "-f", policies(tmp_path))
    assert code == 0 and "the bridge CNI enforces no NetworkPolicy" in out
    assert row(out, "default/app") == ["."] * 4


def test_an_enforcing_engine_denies_the_cells(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(NoPolicyEngine, "enforces", True)   # as an enforcing engine would
    code, out, _ = run(capsys, "reach", "-f", policies(tmp_path))
    header = out.splitlines()[1].split()[1:]
    assert header == ["default/app", "default/client", "default/web-1", "default/web-2"]
    assert row(out, "default/app") == [".", ".", "X", "X"]
    assert row(out, "default/client") == [".", ".", ".", "."]
    _, out, _ = run(capsys, "reach", "-f", policies(tmp_path), "--port", "81")
    assert row(out, "default/client") == [".", ".", "X", "X"]   # http is port 80


def test_why_names_the_rule_or_the_closest_miss(capsys, tmp_path):
    _, out, _ = run(capsys, "reach", "-f", policies(tmp_path), "--why", "client", "web-1")
    assert "ingress allowed by default/web-from-client ingress[0].from[0] ports[0]" in out
    _, out, _ = run(capsys, "reach", "-f", policies(tmp_path), "--why", "app", "default/web-1")
    assert out.startswith("default/app -> default/web-1 TCP/80: denied")
    assert "ingress[0] allows from app=client; the source has app=app" in out
    assert "the bridge CNI enforces no NetworkPolicy: the connection is delivered" in out


def test_json_has_what_happens_and_what_the_policies_say(capsys, tmp_path):
    _, out, _ = run(capsys, "reach", "-f", policies(tmp_path), "--json", "-n", "default")
    data = json.loads(out)
    cell = next(c for c in data["cells"] if c["from"] == "default/app"
                and c["to"] == "default/web-1")
    assert data["enforced"] is False and cell["allowed"] and not cell["policy_allows"]
    assert cell["ingress"]["selecting"] == ["default/web-from-client"]


def test_bad_input_is_one_line(capsys):
    code, out, err = run(capsys, "reach", "--why", "nope", "web-1")
    assert code == 2 and err == 'error: pod "nope" not found in namespace "default" (or it ' \
        'has no address)\n'
    code, _, err = run(capsys, "reach", "-n", "missing")
    assert code == 2 and err.count("\n") == 1
