"""NetworkPolicy through manifests: defaults, apply again, and the API server's validation
(one line naming the field; nothing applied)."""

import pytest

from playground.cluster.manifests import ManifestError, apply_files

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: p, namespace: default}}
spec:
{spec}
"""


def write(tmp_path, spec, name="p.yaml"):
    path = tmp_path / name
    path.write_text(POLICY.format(spec=spec))
    return str(path)


async def test_defaults_and_apply_again(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "  podSelector: {}\n  egress: [{}]\n"
                                  "  ingress:\n  - ports: [{port: 80}]")])
    policy = lab.network_policies("default")[0]
    assert policy.spec.policy_types == ["Ingress", "Egress"]
    assert policy.spec.ingress[0].ports[0].protocol == "TCP"
    await apply_files(lab, [write(tmp_path, "  podSelector: {matchLabels: {app: web}}")])
    policy = lab.network_policies("default")[0]
    assert policy.spec.policy_types == ["Ingress"] and policy.spec.pod_selector.text() == \
        "app=web"


async def test_namespace_labels_are_applied(lab, tmp_path):
    path = tmp_path / "ns.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: y, labels: {team: y}}\n")
    await apply_files(lab, [str(path)])
    assert lab.api.peek("Namespace", "", "y").metadata.labels == {"team": "y"}


@pytest.mark.parametrize("spec, error", [
    ("  podSelector: {}\n  ingress:\n  - from: [{}]",
     "spec.ingress[0].from[0]: Required value: must specify a peer"),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
     "      podSelector: {}",
     "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"),
    ("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: "
     "[192.168.0.0/16]}",
     'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a '
     "strict subset of `cidr`"),
    ("  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 90}]",
     "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` "
     "is non-numeric"),
    ("  podSelector: {}\n  ingress:\n  - ports: [{port: 90, endPort: 80}]",
     "spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to "
     "`port`"),
    ("  podSelector: {}\n  ingress:\n  - ports: [{protocol: ICMP}]",
     'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", '
     '"UDP", "SCTP"'),
    ("  podSelector: {}\n  policyTypes: [Ingress, Sideways]",
     'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Egress", '
     '"Ingress"'),
    ("  podSelector:\n    matchExpressions: [{key: app, operator: In}]",
     "spec.podSelector.matchExpressions[0].values: Required value: must be specified when "
     "`operator` is 'In' or 'NotIn'"),
    ("  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0/8}",
     'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0/8": must be a valid CIDR'),
])
async def test_validation_names_the_field_and_applies_nothing(lab, tmp_path, spec, error):
    with pytest.raises(ManifestError) as raised:
        await apply_files(lab, [write(tmp_path, spec)])
    assert 'The NetworkPolicy "p" is invalid: ' + error in str(raised.value)
    assert "\n" not in str(raised.value) and lab.network_policies() == []
