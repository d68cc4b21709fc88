"""The `:` command line, as a learner types it."""

import pytest

from playground.shell import Shell, ShellError


@pytest.fixture
def shell(lab):
    return Shell(lab)


async def test_create_expose_and_reach_a_deployment(shell, lab):
    await shell.run("kubectl create deployment shop --image=nginx:1.27 --replicas=2 --port=80")
    result = await shell.run("kubectl expose deployment shop --port=80 --type=LoadBalancer")
    assert result.changed and "service/shop exposed" in result.output
    table = (await shell.run("kubectl get svc")).output
    assert "shop" in table and "LoadBalancer" in table and "198.51.100." in table
    assert "2/2" in (await shell.run("kubectl get deploy")).output
    result = await shell.run("trace internet lb/shop")
    assert result.trace.verdict == "delivered"
    assert result.trace.delivered_to.namespace.startswith("pod/default/shop-")
    back = await shell.run("reply")
    assert back.trace.verdict == "delivered" and back.trace.delivered_to.namespace == "internet"


async def test_scale_and_delete(shell, lab):
    await shell.run("kubectl create deployment api --image=nginx --replicas=3")
    await shell.run("kubectl scale deployment/api --replicas=1")
    assert len([p for p in lab.pods() if p.name.startswith("api-")]) == 1
    await shell.run("kubectl delete deployment api")
    assert not [p for p in lab.pods() if p.name.startswith("api-")]
    await shell.run("kubectl run box --image=busybox --port=8080")
    assert "box" in (await shell.run("kubectl get pods -o wide")).output
    await shell.run("kubectl delete pod box")
    assert "box" not in (await shell.run("kubectl get pods")).output


async def test_node_tools_act_on_the_selection(shell):
    routes = (await shell.run("ip route", "node/kind-worker")).output
    assert "10.244.2.0/24 via 172.18.0.3 dev eth0" in routes
    await shell.run("trace pod/client svc/web")
    nat = (await shell.run("iptables-save -t nat -c", "node/kind-worker")).output
    assert "[1:60] -A PREROUTING" in nat
    listing = (await shell.run("conntrack -L", "node/kind-worker")).output
    assert "dport=80" in listing and "1 flow entries have been shown." in listing


@pytest.mark.parametrize("line, message", [
    ("kubectl frobnicate", "kubectl frobnicate: not supported here"),
    ("kubectl get widgets", "unknown kind 'widgets'"),
    ("kubectl run x", "the following arguments are required: --image"),
    ("kubectl scale deployment nope --replicas=2", 'deployment "default/nope" not found'),
    ("trace pod/client pod/nope", 'pod "nope" not found'),
    ("reply", "nothing to reply to"),
    ("ip route", "select a node or a pod first"),
    ("rm -rf /", "unknown command 'rm'"),
    ('trace "unclosed', "cannot read the command"),
])
async def test_errors_are_one_line(shell, line, message):
    with pytest.raises(ShellError, match=message.replace("(", r"\(")) as caught:
        await shell.run(line)
    assert "\n" not in str(caught.value)


async def test_sysctl_on_the_selected_node(shell, lab):
    result = await shell.run("sysctl -w net.bridge.bridge-nf-call-iptables=0", "node/kind-worker")
    assert result.output == "net.bridge.bridge-nf-call-iptables = 0\n"
    assert lab.node_namespace("kind-worker").sysctl["net.bridge.bridge-nf-call-iptables"] == "0"
    assert lab.node_namespace("kind-worker2").sysctl["net.bridge.bridge-nf-call-iptables"] == "1"
    with pytest.raises(ShellError, match="not modelled here"):
        await shell.run("sysctl -w net.ipv4.nope=1", "node/kind-worker")
