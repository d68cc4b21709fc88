"""Lab files: a saved lab comes back with the same objects and gives the same traces."""

from __future__ import annotations

from playground.cluster.objects import Container
from playground.cluster.restore import saved_objects
from playground.saves import Lab, load_lab, pack_lab, save_lab

FOLLOW_UP = ["trace pod/client svc/web", "reply", "traffic pod/client svc/web --count 20",
             "trace pod/client internet", "reply"]
NODE_VIEWS = ["conntrack -L", "iptables-save -c", "ip route"]


async def outputs(lab: Lab) -> list[str]:
    seen = [(await lab.run(line)).output for line in FOLLOW_UP]
    for node in lab.cluster.nodes():
        seen += [(await lab.run(view, f"node/{node.name}")).output for view in NODE_VIEWS]
    return seen


async def test_a_loaded_lab_has_the_objects_and_gives_the_traces_of_the_saved_one(lab, tmp_path):
    await lab.add_deployment("api", [Container("api", "nginx:1.27")], replicas=2)
    original = Lab(lab)
    await original.run("trace pod/client svc/web")
    await original.run("reply")
    await original.run("sysctl -w net.bridge.bridge-nf-call-iptables=0", "node/kind-worker2")
    path = tmp_path / "one.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        assert saved_objects(loaded.cluster) == saved_objects(lab)
        assert [a.line for a in loaded.history] == [a.line for a in original.history]
        assert pack_lab(loaded) == pack_lab(original)
        assert await outputs(loaded) == await outputs(original)
    finally:
        await loaded.close()
