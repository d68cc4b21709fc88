"""A new pod template rolls out as Kubernetes' deployment controller rolls it: a new
ReplicaSet, maxSurge above and maxUnavailable below the replica count, a step per lab second,
the EndpointSlice following every step."""

from __future__ import annotations

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.deployment import Deployment, fenceposts
from playground.cluster.lab import web
from playground.cluster.objects import ObjectMeta
from playground.cluster.pod_template import PodTemplate
from playground.cluster.service import ServicePort, slices_of
from playground.shell import Shell


@pytest.mark.parametrize("replicas,surge,unavailable,expected", [
    (3, "25%", "25%", (1, 0)),      # 0.75 up is 1, 0.75 down is 0
    (4, "25%", "25%", (1, 1)),
    (10, "25%", "25%", (3, 2)),
    (10, 0, "0%", (0, 1)),          # both 0 never moves: maxUnavailable becomes 1
    (5, 2, "50%", (2, 2)),
])
def test_fenceposts_round_surge_up_and_unavailable_down(replicas, surge, unavailable, expected):
    deployment = Deployment(ObjectMeta("d", "default"), replicas, {"a": "b"},
                            PodTemplate({"a": "b"}, web()), max_surge=surge,
                            max_unavailable=unavailable)
    assert fenceposts(deployment) == expected


def sizes(lab) -> dict[str, tuple[int, int]]:
    """Each ReplicaSet's revision: (desired, available)."""
    return {rs.metadata.annotations["deployment.kubernetes.io/revision"]:
            (rs.replicas, rs.status.available_replicas) for rs in lab.replica_sets("default")}


def endpoints(lab) -> list[tuple[str, bool, bool, bool]]:
    found = slices_of(lab.api, "default", "shop")[0]
    return sorted((e.target.split("/")[1], e.ready, e.serving, e.terminating)
                  for e in found.endpoints)


async def test_set_image_rolls_out_step_by_step(lab):
    await lab.add_deployment("shop", web("shop"), replicas=3)
    await lab.add_service("shop", [ServicePort(80, "http")], selector={"app": "shop"})
    await lab.set_image("shop", {"shop": "nginx:2"})
    steps = [sizes(lab)]
    slices = [endpoints(lab)]
    while lab.rollout_state(lab.api.peek("Deployment", "default", "shop"))[0] is False:
        await lab.settle()
        steps.append(sizes(lab))
        slices.append(endpoints(lab))
    # surge 1, unavailable 0: one new pod, then one old down and one new up per second
    assert steps == [{"1": (3, 3), "2": (1, 0)}, {"1": (2, 2), "2": (2, 1)},
                     {"1": (1, 1), "2": (3, 2)}, {"1": (0, 0), "2": (3, 3)}]
    (old,) = [rs.name for rs in lab.replica_sets("default") if rs.revision == 1]
    # the old pods stay in the slice while they terminate: not ready, still serving
    last = slices[-1]
    assert [e for e in last if e[0].startswith(old)] == [
        (e[0], False, True, True) for e in last if e[0].startswith(old)]
    assert len([e for e in last if e[1]]) == 3
    for before, after in zip(slices, slices[1:], strict=False):
        assert sum(e[1] for e in after) >= 3 and before != after
    deployment = lab.api.peek("Deployment", "default", "shop")
    assert deployment.status.updated_replicas == 3
    await lab.finish_terminations()
    assert len(endpoints(lab)) == 3
    assert all(not e[0].startswith(old) and e[1:] == (True, True, False)
               for e in endpoints(lab))


async def test_rollout_status_history_and_undo_in_the_shell(lab):
    shell = Shell(lab)
    await shell.run("kubectl create deployment shop --image=nginx:1.27 --replicas=2")
    out = (await shell.run("kubectl set image deployment/shop nginx=nginx:2")).output
    assert out == "deployment.apps/shop image updated\n"
    status = (await shell.run("kubectl rollout status deployment/shop")).output
    assert status.splitlines()[-1] == 'deployment "shop" successfully rolled out'
    assert status.splitlines()[0].startswith('Waiting for deployment "shop" rollout to finish')
    history = (await shell.run("kubectl rollout history deployment/shop")).output
    assert history.splitlines()[:4] == ["deployment.apps/shop ", "REVISION  CHANGE-CAUSE",
                                        "1         <none>", "2         <none>"]
    rs = (await shell.run("kubectl get rs -o wide")).output.splitlines()
    assert rs[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS",
                             "IMAGES", "SELECTOR"]
    assert sorted(line.split()[6] for line in rs[1:]) == ["nginx:1.27", "nginx:2"]
    undo = (await shell.run("kubectl rollout undo deployment/shop")).output
    assert undo == "deployment.apps/shop rolled back\n"
    await shell.run("kubectl rollout status deployment/shop")
    deployment = lab.api.peek("Deployment", "default", "shop")
    assert deployment.template.containers[0].image == "nginx:1.27"
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    history = (await shell.run("kubectl rollout history deployment/shop")).output
    assert [line.split()[0] for line in history.splitlines()[2:4]] == ["2", "3"]


async def test_set_image_of_an_unknown_container_is_refused(lab):
    await lab.add_deployment("shop", web("shop"))
    with pytest.raises(ClusterError, match='unable to find container named "nope"'):
        await lab.set_image("shop", {"nope": "nginx:2"})
    assert len(lab.replica_sets("default")) == 1


async def test_undo_without_history_is_refused(lab):
    await lab.add_deployment("shop", web("shop"))
    with pytest.raises(ClusterError, match='no rollout history found for deployment "shop"'):
        await lab.rollout_undo("shop")
    with pytest.raises(ClusterError, match="unable to find specified revision 7 in history"):
        await lab.rollout_undo("shop", to_revision=7)


async def test_recreate_stops_every_old_pod_before_the_new_start(lab):
    await lab.add_deployment("shop", web("shop"), replicas=2, strategy="Recreate")
    await lab.set_image("shop", {"shop": "nginx:2"})
    assert sizes(lab) == {"1": (0, 0), "2": (0, 0)}
    await lab.finish_terminations()
    await lab.settle()
    assert sizes(lab)["2"][0] == 2


async def test_scaling_up_in_the_middle_of_a_rollout_keeps_the_surge(lab):
    await lab.add_deployment("shop", web("shop"), replicas=4)
    await lab.set_image("shop", {"shop": "nginx:2"})
    total = sum(rs.replicas for rs in lab.replica_sets("default"))
    assert total <= 4 + 1
    await lab.rollout_status("shop")
    assert sizes(lab)["2"] == (4, 4)


async def test_kubectl_patch_of_the_template_rolls_out_and_bad_fields_are_named(lab):
    shell = Shell(lab)
    await shell.run("kubectl create deployment shop --image=nginx:1.27 --replicas=2")
    out = (await shell.run("kubectl patch deployment shop -p '{\"spec\":{\"template\":{\"spec\""
                           ":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:2\"}]}}}}'"))
    assert out.output == "deployment.apps/shop patched\n"
    assert sorted(rs.template.containers[0].image for rs in lab.replica_sets("default")) == \
        ["nginx:1.27", "nginx:2"]
    await shell.run("kubectl patch deploy/shop -p '{\"spec\":{\"replicas\":3}}'")
    assert lab.api.peek("Deployment", "default", "shop").replicas == 3
    from playground.commands.base import ShellError
    with pytest.raises(ShellError, match="spec.selector: field is immutable"):
        await shell.run("kubectl patch deployment shop -p '{\"spec\":{\"selector\":{}}}'")
    with pytest.raises(ShellError, match=r"spec.strategy.rollingUpdate.maxSurge: a valid "
                                         "percent string"):
        await shell.run("kubectl patch deployment shop -p '{\"spec\":{\"strategy\":"
                        "{\"rollingUpdate\":{\"maxSurge\":\"x\"}}}}'")
