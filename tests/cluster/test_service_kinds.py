"""The Service kinds the API server takes besides a plain ClusterIP: headless, ExternalName,
SCTP ports, externalIPs; and what it refuses of them, one line naming the field."""

from __future__ import annotations

import re

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.manifests import apply_files
from playground.cluster.tables import services_table


def manifest(tmp_path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return str(path)


def row(lab, name: str) -> list[str]:
    lines = services_table(lab, "default").splitlines()
    return next(line.split() for line in lines if line.split()[0] == name)


async def test_a_headless_service_shows_none_and_gets_no_rules(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: quiet}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
""")])
    assert row(lab, "quiet")[1:5] == ["ClusterIP", "None", "<none>", "80/TCP"]
    rules = lab.node_namespace(lab.nodes()[0].name).netfilter.save(["nat"])
    assert "default/quiet" not in rules


async def test_an_external_name_service_shows_its_name_and_has_no_cluster_ip(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {type: ExternalName, externalName: db.example.com}
""")])
    assert row(lab, "db")[1:5] == ["ExternalName", "<none>", "db.example.com", "<none>"]
    assert lab.find_service("db").spec.cluster_ip is None


@pytest.mark.parametrize("spec, message", [
    ("{type: ExternalName}", "spec.externalName: Required value"),
    ("{type: ExternalName, externalName: Bad_Name}", 'spec.externalName: Invalid value: '
     '"Bad_Name": a lowercase RFC 1123 subdomain'),
    ("{type: ExternalName, externalName: a.b, clusterIP: 10.96.0.50}",
     "spec.clusterIPs: Forbidden: may not be set for ExternalName services"),
    ("{type: NodePort, clusterIP: None, ports: [{port: 80}]}",
     "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort "
     "services"),
    ("{selector: {app: web}}", "spec.ports: Required value"),
    ("{ports: [{port: 80}], externalIPs: [not-an-ip]}",
     'spec.externalIPs[0]: Invalid value: "not-an-ip": must be a valid IP address'),
    ("{ports: [{port: 80}], externalIPs: [127.0.0.5]}",
     'spec.externalIPs[0]: Invalid value: "127.0.0.5": may not be in the loopback range'),
])
async def test_the_api_servers_refusals(lab, tmp_path, spec, message):
    before = services_table(lab, None)
    with pytest.raises(ClusterError, match=re.escape(
            'm.yaml: document 1 (Service/x): The Service "x" is invalid: ' + message)):
        await apply_files(lab, [manifest(tmp_path, f"""
apiVersion: v1
kind: Service
metadata: {{name: x}}
spec: {spec}
""")])
    assert services_table(lab, None) == before


async def test_external_ips_are_shown_and_programmed(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  selector: {app: web}
  externalIPs: [192.0.2.10]
  externalTrafficPolicy: Local
  ports: [{port: 80}]
""")])
    assert row(lab, "front")[3] == "192.0.2.10"
    rules = lab.node_namespace(lab.nodes()[0].name).netfilter.save(["nat"])
    assert '-d 192.0.2.10/32 -p tcp -m comment --comment "default/front external IP"' in rules


async def test_an_sctp_port_is_taken(lab, tmp_path):
    await apply_files(lab, [manifest(tmp_path, """
apiVersion: v1
kind: Service
metadata: {name: signal}
spec: {selector: {app: web}, ports: [{port: 9000, protocol: SCTP}]}
""")])
    assert row(lab, "signal")[4] == "9000/SCTP"
