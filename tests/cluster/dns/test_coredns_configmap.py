"""The coredns ConfigMap: kubectl shows it, CoreDNS runs what it says, an edit takes effect
at the next reload on the lab clock, and one that does not parse leaves the old config."""

import pytest

from playground.cluster.dns.corefile import DEFAULT
from playground.cluster.lab import build_default_lab
from playground.commands.base import ShellError
from playground.shell import Shell


@pytest.fixture
async def lab():
    cluster = await build_default_lab()
    yield cluster
    await cluster.stop()


def manifest(tmp_path, corefile):
    body = "".join(f"    {line}\n" for line in corefile.splitlines())
    path = tmp_path / "coredns.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n"
                    f"  namespace: kube-system\ndata:\n  Corefile: |\n{body}")
    return str(path)


async def answer_ttl(shell):
    result = await shell.run("dig web.default.svc.cluster.local", "pod/client")
    line = next(x for x in result.output.splitlines() if x.startswith("web.default.svc"))
    return int(line.split()[1])


async def test_kubectl_shows_kubeadms_corefile(lab):
    shell = Shell(lab)
    shown = await shell.run("kubectl get configmap -n kube-system coredns -o yaml", None)
    assert shown.output.startswith("apiVersion: v1\ndata:\n  Corefile: |\n    .:53 {\n")
    assert "        ttl 30\n" in shown.output and "kind: ConfigMap\n" in shown.output
    listed = await shell.run("kubectl get cm -n kube-system", None)
    assert listed.output.splitlines()[1].split()[:2] == ["coredns", "1"]
    described = await shell.run("kubectl describe configmap coredns -n kube-system", None)
    assert "Data\n====\nCorefile:\n----\n.:53 {\n" in described.output
    with pytest.raises(ShellError, match='configmaps "nope" not found'):
        await shell.run("kubectl get configmap nope -o yaml", None)


async def test_an_edit_takes_effect_at_the_next_reload(lab, tmp_path):
    shell = Shell(lab)
    assert await answer_ttl(shell) == 30
    started = lab.network.clock   # the first query read the Corefile: reload ticks from here
    assert lab.coredns.next_check == started + 30
    await shell.run(f"kubectl apply -f {manifest(tmp_path, DEFAULT.replace('ttl 30', 'ttl 7'))}",
                    None)
    lab.network.advance(lab.coredns.next_check - lab.network.clock - 1)
    assert await answer_ttl(shell) in (1, 30)   # the old config: a cached answer or 30
    lab.network.advance(1)   # reload's 30 s tick: the new plugins, an empty cache
    assert await answer_ttl(shell) == 7


async def test_forward_goes_where_the_corefile_says(lab, tmp_path):
    shell = Shell(lab)
    before = await shell.run("dig example.com +short", "pod/client")
    assert before.output.strip()
    text = DEFAULT.replace("/etc/resolv.conf", "192.0.2.99")   # nothing answers there
    await shell.run(f"kubectl apply -f {manifest(tmp_path, text)}", None)
    lab.network.advance(lab.coredns.next_check - lab.network.clock)
    after = await shell.run("dig example.com", "pod/client")
    assert "status: SERVFAIL" in after.output
    assert any("DNS query to 192.0.2.99:53" in leg.title for leg in after.legs)


async def test_a_corefile_that_does_not_parse_keeps_the_running_config(lab, tmp_path):
    shell = Shell(lab)
    assert await answer_ttl(shell) == 30
    broken = DEFAULT.replace("kubernetes cluster", "kubernets cluster").replace("ttl 30", "ttl 7")
    await shell.run(f"kubectl apply -f {manifest(tmp_path, broken)}", None)
    lab.network.advance(lab.coredns.next_check - lab.network.clock)
    assert await answer_ttl(shell) == 30
    assert lab.api.events.lines()[-1] == (
        "Warning CorefileError configmap/kube-system/coredns coredns: [ERROR] Corefile changed "
        "but reload failed: /etc/coredns/Corefile:7 - Error during parsing: Unknown directive "
        "'kubernets'")
    events = await shell.run("kubectl get events -n kube-system", None)
    assert "CorefileError   configmap/coredns" in events.output


async def test_the_api_server_refuses_a_bad_key(lab, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
                    "  'a b': c\n")
    with pytest.raises(ShellError, match=r"data\[a b\]: Invalid value"):
        await Shell(lab).run(f"kubectl apply -f {path}", None)
    assert lab.api.peek("ConfigMap", "default", "x") is None
