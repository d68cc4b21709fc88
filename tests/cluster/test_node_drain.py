"""kubectl cordon, uncordon, drain and label on the lab's nodes, with kubectl's own lines:
a drain never evicts a DaemonSet's pod (it stops without --ignore-daemonsets), needs --force
for a pod no controller owns, and the ReplicaSet's pods come back on the other nodes."""

from __future__ import annotations

import pytest

from playground.cluster.daemonset import DaemonSet
from playground.cluster.lab import web
from playground.cluster.objects import ObjectMeta
from playground.cluster.pod_template import PodTemplate
from playground.commands.base import ShellError
from playground.shell import Shell


async def out(shell: Shell, line: str) -> str:
    return (await shell.run(line)).output


def on(lab, node: str) -> list[str]:
    return sorted(p.name for p in lab.pods() if p.spec.node_name == node and not p.terminating)


async def test_cordon_stops_scheduling_there_and_uncordon_lets_it_again(lab):
    shell = Shell(lab)
    assert await out(shell, "kubectl cordon kind-worker") == "node/kind-worker cordoned\n"
    assert await out(shell, "kubectl cordon node/kind-worker") == \
        "node/kind-worker already cordoned\n"
    row = next(r for r in (await out(shell, "kubectl get nodes")).splitlines()
               if r.startswith("kind-worker "))
    assert row.split()[1] == "Ready,SchedulingDisabled"
    before = on(lab, "kind-worker")
    await lab.add_deployment("spread", web("spread"), 4)
    assert on(lab, "kind-worker") == before   # its pods stay, no new one comes
    assert await out(shell, "kubectl uncordon kind-worker") == "node/kind-worker uncordoned\n"
    assert await out(shell, "kubectl uncordon kind-worker") == \
        "node/kind-worker already uncordoned\n"
    with pytest.raises(ShellError, match='nodes "nope" not found'):
        await shell.run("kubectl cordon nope")


async def test_drain_refuses_daemonset_and_bare_pods_as_kubectl_does(lab):
    shell = Shell(lab)
    await lab.add_daemon_set(DaemonSet(ObjectMeta("agent", "kube-system"), {"app": "agent"},
                                       PodTemplate({"app": "agent"}, web("agent"))))
    agent = next(p.name for p in lab.pods("kube-system") if p.spec.node_name == "kind-worker"
                 and p.name.startswith("agent-"))
    text = await out(shell, "kubectl drain kind-worker")
    assert text.splitlines() == [
        "node/kind-worker cordoned",
        'error: unable to drain node "kind-worker" due to error:[cannot delete DaemonSet-'
        f"managed Pods (use --ignore-daemonsets to ignore): kube-system/{agent}, cannot "
        "delete Pods declare no controller (use --force to override): default/client, "
        "default/web-2], continuing command...",
        "There are pending nodes to be drained:", " kind-worker",
        f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
        f"kube-system/{agent}",
        "cannot delete Pods declare no controller (use --force to override): "
        "default/client, default/web-2"]
    assert on(lab, "kind-worker") == sorted(["client", "web-2", agent])   # nothing evicted
    text = await out(shell, "kubectl drain kind-worker --ignore-daemonsets --force")
    assert text.splitlines() == [
        "node/kind-worker already cordoned",
        f"Warning: ignoring DaemonSet-managed Pods: kube-system/{agent}",
        "Warning: deleting Pods that declare no controller: default/client, default/web-2",
        "evicting pod default/client", "evicting pod default/web-2",
        "pod/client evicted", "pod/web-2 evicted", "node/kind-worker drained"]
    assert on(lab, "kind-worker") == [agent]   # the DaemonSet's pod stays


async def test_a_drained_replicaset_pod_comes_back_on_another_node(lab):
    await lab.add_deployment("spread", web("spread"), 2)
    assert {p.spec.node_name for p in lab.pods() if p.name.startswith("spread-")} == \
        {"kind-worker", "kind-worker2"}
    text = await out(Shell(lab), "kubectl drain kind-worker --force")
    assert text.endswith("node/kind-worker drained\n")
    nodes = [p.spec.node_name for p in lab.pods() if p.name.startswith("spread-")
             and not p.terminating]
    assert nodes == ["kind-worker2", "kind-worker2"]


async def test_label_sets_and_removes_a_node_label(lab):
    shell = Shell(lab)
    assert await out(shell, "kubectl label node kind-worker tier=edge") == \
        "node/kind-worker labeled\n"
    with pytest.raises(ShellError, match=r"'tier' already has a value \(edge\), and "
                                         "--overwrite is false"):
        await shell.run("kubectl label node kind-worker tier=core")
    await shell.run("kubectl label node kind-worker tier=core --overwrite")
    shown = await out(shell, "kubectl get nodes --show-labels")
    assert "tier=core" in shown
    # kubeadm's labels on the control plane, the keys sorted as kubectl prints them
    assert "node-role.kubernetes.io/control-plane=,node.kubernetes.io/exclude-from-" \
           "external-load-balancers=" in shown
    assert await out(shell, "kubectl label node kind-worker tier-") == \
        "node/kind-worker unlabeled\n"
    with pytest.raises(ShellError, match="Invalid value"):
        await shell.run("kubectl label node kind-worker bad/key/x=1")
