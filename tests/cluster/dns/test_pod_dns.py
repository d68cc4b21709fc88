"""A pod's dnsPolicy and dnsConfig from its manifest: kubelet's resolv.conf follows them,
and what the API server refuses is refused with the field named."""

import pytest
import pytest_asyncio

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
