"""A pod's dnsPolicy and dnsConfig from its manifest: kubelet's resolv.conf follows them,
and what the API server refuses is refused with the field named."""

import pytest
import pytest_asyncio

from playground.cluster.kube_yaml import manifests
from playground.cluster.lab import build_default_lab
from playground.commands.base import ShellError
from playground.shell import Shell

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab():
    cluster = await build_default_lab()
    yield cluster
    await cluster.stop()


def pod(tmp_path, name, spec):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n"
                    f"  containers:\n  - name: c\n    image: busybox\n{spec}")
    return str(path)


async def resolv(lab, name):
    return (await Shell(lab).run("cat /etc/resolv.conf", f"pod/{name}")).output


async def test_none_is_only_what_dns_config_says(lab, tmp_path):
    spec = ("  dnsPolicy: None\n  dnsConfig:\n    nameservers: [192.0.2.53]\n"
            "    searches: [corp.example]\n    options:\n    - name: ndots\n      value: '2'\n"
            "    - name: edns0\n")
    await Shell(lab).run(f"kubectl apply -f {pod(tmp_path, 'custom', spec)}", None)
    assert await resolv(lab, "custom") == ("search corp.example\nnameserver 192.0.2.53\n"
                                           "options ndots:2 edns0\n")


async def test_default_is_the_nodes_file_and_cluster_first_merges_dns_config(lab, tmp_path):
    await Shell(lab).run(f"kubectl apply -f {pod(tmp_path, 'plain', '  dnsPolicy: Default')}",
                         None)
    assert await resolv(lab, "plain") == "nameserver 203.0.113.53\n"
    spec = ("  dnsConfig:\n    searches: [corp.example]\n    options:\n    - name: ndots\n"
            "      value: '1'\n")
    await Shell(lab).run(f"kubectl apply -f {pod(tmp_path, 'merged', spec)}", None)
    assert await resolv(lab, "merged") == (
        "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
        "nameserver 10.96.0.10\noptions ndots:1\n")


@pytest.mark.parametrize(("spec", "problem"), [
    ("  dnsPolicy: Cluster", 'spec.dnsPolicy: Unsupported value: "Cluster": supported values'),
    ("  dnsPolicy: None", "spec.dnsConfig: Required value: must provide `dnsConfig` when "
                          "`dnsPolicy` is None"),
    ("  dnsPolicy: None\n  dnsConfig:\n    searches: [a.example]",
     "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver"),
    ("  dnsConfig:\n    nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 9.9.9.9]",
     "spec.dnsConfig.nameservers: Invalid value: .*must not have more than 3 nameservers"),
    ("  dnsConfig:\n    nameservers: [dns.example]",
     'spec.dnsConfig.nameservers\\[0\\]: Invalid value: "dns.example": must be a valid IP'),
    ("  dnsConfig:\n    searches: [" + ", ".join(f"s{i}.example" for i in range(33)) + "]",
     "must not have more than 32 search paths"),
    ("  dnsConfig:\n    searches: [" + ", ".join("a" * 60 + f".x{i}" for i in range(32)) + "]",
     "must not have more than 2048 characters"),
])
async def test_the_api_server_refuses(lab, tmp_path, spec, problem):
    with pytest.raises(ShellError, match=problem):
        await Shell(lab).run(f"kubectl apply -f {pod(tmp_path, 'refused', spec)}", None)
    assert lab.api.peek("Pod", "default", "refused") is None


def workload(tmp_path, kind, name, spec, replicas="  replicas: 2\n"):
    """A Deployment, DaemonSet or StatefulSet whose pod template's spec ends with `spec`."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n"
                    f"{replicas}  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
                    f"    metadata: {{labels: {{app: {name}}}}}\n    spec:\n"
                    f"      containers: [{{name: c, image: busybox}}]\n{spec}")
    return str(path)


CUSTOM = ("      dnsPolicy: None\n      dnsConfig:\n        nameservers: [192.0.2.53]\n"
          "        searches: [corp.example]\n        options:\n        - name: ndots\n"
          "          value: '2'\n")


async def test_a_deployment_with_dns_policy_none_gives_its_pods_that_resolv_conf(lab,
                                                                                 tmp_path):
    await Shell(lab).run(f"kubectl apply -f {workload(tmp_path, 'Deployment', 'corp', CUSTOM)}",
                         None)
    pods = [p for p in lab.pods("default") if p.name.startswith("corp-")]
    assert len(pods) == 2 and all(p.spec.dns_policy == "None" for p in pods)
    for found in pods:
        assert await resolv(lab, found.name) == ("search corp.example\nnameserver 192.0.2.53\n"
                                                 "options ndots:2\n")
    # the resolver follows it: the first question goes to 192.0.2.53, as corp.example's
    sent = await Shell(lab).run("dig web +search", f"pod/{pods[0].name}")
    assert sent.legs[0].trace.packet.dst.exploded == "192.0.2.53"
    assert sent.legs[0].message.question[0].name.to_text() == "web.corp.example."
    # a new dnsConfig is a new template: a new ReplicaSet rolls it out
    first = {rs.name for rs in lab.replica_sets("default") if rs.name.startswith("corp-")}
    changed = CUSTOM.replace("192.0.2.53", "192.0.2.54")
    await Shell(lab).run(f"kubectl apply -f {workload(tmp_path, 'Deployment', 'corp', changed)}",
                         None)
    await lab.settle()
    sets = {rs.name for rs in lab.replica_sets("default") if rs.name.startswith("corp-")}
    assert len(sets - first) == 1
    exported = manifests(lab)
    assert "dnsPolicy: None" in exported and "- 192.0.2.54" in exported


async def test_daemon_set_and_stateful_set_pods_take_their_templates_dns(lab, tmp_path):
    spec = "      dnsConfig:\n        options:\n        - name: use-vc\n"
    await Shell(lab).run(f"kubectl apply -f {workload(tmp_path, 'DaemonSet', 'agent', spec, '')}",
                         None)
    await Shell(lab).run(f"kubectl apply -f {workload(tmp_path, 'StatefulSet', 'db', spec)}",
                         None)
    for name in ("agent", "db"):
        made = [p for p in lab.pods("default") if p.name.startswith(f"{name}-")]
        assert made and all(p.spec.dns_config.options == ("use-vc",) for p in made)
        assert (await resolv(lab, made[0].name)).endswith("options ndots:5 use-vc\n")


@pytest.mark.parametrize(("kind", "spec", "problem"), [
    ("Deployment", "      dnsPolicy: None\n      dnsConfig:\n        searches: [a.example]\n",
     'The Deployment "bad" is invalid: spec.template.spec.dnsConfig.nameservers: Required '
     "value"),
    ("Deployment", "      dnsConfig:\n        nameservers: [dns.example]\n",
     'spec.template.spec.dnsConfig.nameservers\\[0\\]: Invalid value: "dns.example"'),
    ("StatefulSet", "      dnsPolicy: Cluster\n",
     'The StatefulSet "bad" is invalid: spec.template.spec.dnsPolicy: Unsupported value'),
    ("DaemonSet", "      dnsPolicy: None\n",
     "spec.template.spec.dnsConfig: Required value: must provide `dnsConfig`"),
])
async def test_the_api_server_refuses_a_template_naming_the_field(lab, tmp_path, kind, spec,
                                                                 problem):
    replicas = "" if kind == "DaemonSet" else "  replicas: 1\n"
    with pytest.raises(ShellError, match=problem):
        await Shell(lab).run(f"kubectl apply -f {workload(tmp_path, kind, 'bad', spec, replicas)}",
                             None)
    assert lab.api.peek(kind, "default", "bad") is None
    assert not [p for p in lab.pods("default") if p.name.startswith("bad-")]
