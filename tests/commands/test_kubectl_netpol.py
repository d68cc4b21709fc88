"""NetworkPolicy on the `:` line (apply, get, describe, delete), in exported YAML and in a
lab file."""

import pytest
import yaml

from playground.cluster.kube_yaml import manifests
from playground.commands.base import ShellError
from playground.saves import load_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell

DOCS = """apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    - namespaceSelector: {matchLabels: {team: shop}}
      podSelector: {}
    ports: [{port: http}, {port: 8000, endPort: 8080, protocol: UDP}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.96.0.0/12]}}]
"""


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "policies.yaml"
    path.write_text(DOCS)
    return str(path)


async def test_apply_get_describe_delete(lab, manifest):
    shell = Shell(lab)
    await shell.run(f"kubectl apply -f {manifest}")
    table = (await shell.run("kubectl get netpol")).output
    assert table.splitlines()[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert table.splitlines()[1].split()[:2] == ["web-from-client", "app=web"]
    shown = (await shell.run("kubectl describe networkpolicy web-from-client")).output
    assert "  PodSelector:     app=web\n  Allowing ingress traffic:\n    To Port: http/TCP\n" \
        "    To Port: 8000-8080/UDP\n    From:\n      PodSelector: app=client\n    From:\n" \
        "      NamespaceSelector: team=shop\n      PodSelector: <none>\n" in shown
    assert "  Allowing egress traffic:\n    To Port: <any> (traffic allowed to all ports)\n" \
        "    To:\n      IPBlock:\n        CIDR: 10.0.0.0/8\n        Except: 10.96.0.0/12\n" \
        "  Policy Types: Ingress, Egress\n" in shown
    assert "Selected pods: web-1, web-2\n" in shown
    assert "Enforcement:  not enforced by this CNI (the bridge CNI enforces no " in shown
    deleted = (await shell.run("kubectl delete netpol web-from-client")).output
    assert deleted == 'networkpolicy.networking.k8s.io "web-from-client" deleted\n'
    with pytest.raises(ShellError, match='"web-from-client" not found'):
        await shell.run("kubectl describe netpol web-from-client")


async def test_exported_yaml_and_a_lab_file_keep_policies(lab, manifest, tmp_path):
    await Shell(lab).run(f"kubectl apply -f {manifest}")
    documents = list(yaml.safe_load_all(manifests(lab)))
    policy = next(d for d in documents if d["kind"] == "NetworkPolicy")
    assert policy["spec"]["ingress"][0]["from"][1] == {
        "namespaceSelector": {"matchLabels": {"team": "shop"}}, "podSelector": {}}
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    namespace = next(d for d in documents if d["kind"] == "Namespace")
    assert namespace["metadata"] == {"name": "shop", "labels": {"team": "shop"}}
    path = tmp_path / "lab.k8slab"
    await save_lab(Lab(lab), path)
    back = await load_lab(path)
    try:
        assert [p.spec for p in back.cluster.network_policies()] == \
            [p.spec for p in lab.network_policies()]
    finally:
        await back.close()


async def test_create_refuses_what_is_there_and_apply_changes_it(lab, manifest, tmp_path):
    shell = Shell(lab)
    await shell.run(f"kubectl create -f {manifest}")
    with pytest.raises(Exception, match='networkpolicies.networking.k8s.io "web-from-client" '
                       'already exists'):
        await shell.run(f"kubectl create -f {manifest}")
    changed = tmp_path / "changed.yaml"
    changed.write_text(DOCS.replace("app: web}", "app: web-2}"))
    await shell.run(f"kubectl apply -f {changed}")
    assert lab.network_policies()[0].spec.pod_selector.text() == "app=web-2"
