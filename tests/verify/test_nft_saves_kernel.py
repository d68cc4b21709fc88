"""Every lab of saves/ with kube-proxy moved to nftables mode (the lab file's objects on its
own CNI, as `compare CNI/nftables` copies it), against the kernel. Each namespace's ruleset,
loaded with the real `nft -f` as verify loads it, reads back from `nft -j list ruleset` as
the model has it (verify's "0 mismatches"); on the LoadBalancer lab, whose external and
firewall chains the default lab lacks, verify's probes to its Services also agree. (The
default lab gets every probe on three CNIs in test_nft_mode_kernel.py.)"""

import os
from pathlib import Path

import pytest

from playground.cluster.dataplane import Dataplane
from playground.dataplanes import clone_lab
from playground.saves import SUFFIX, load_lab
from playground.verify.cleanup import KernelLab
from playground.verify.command import Command, in_ns
from playground.verify.kernel import missing_requirements, run
from playground.verify.materialise import PREFIX, Plan
from playground.verify.nft_check import mismatches
from playground.verify.nft_plan import has_tables, load_commands
from playground.verify.run import verify

SAVES = Path(__file__).resolve().parents[2] / "saves"
# cilium replaces kube-proxy: there is no kube-proxy mode to move
KUBE_PROXY_LABS = sorted(p.name for p in SAVES.glob(f"*{SUFFIX}") if p.stem != "cilium")


async def in_nftables_mode(name: str):
    saved = await load_lab(SAVES / name)
    try:
        here = Dataplane.of(saved.cluster)
        return await clone_lab(saved, Dataplane(here.cni, "nftables", here.lb))
    finally:
        await saved.close()


@pytest.fixture(scope="module")
def scratch():
    """One empty namespace, each ruleset loaded into it in turn (made before the `kernel`
    fixture runs, so it asks the same question first)."""
    reason = missing_requirements()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"kernel tests must run in CI, but verify {reason}")
        pytest.skip(f"verify {reason}")
    name = f"{PREFIX}nft-saves"
    with KernelLab(Plan([name], [Command(("ip", "netns", "add", name))], {})):
        yield name


# and kube-proxy's options (test_nft_options.py), as the real nft takes their rules
OPTIONS = [dict(node_port_addresses=["0.0.0.0/0"], nft_masquerade_all=True,
                nft_masquerade_bit=9),
           dict(node_port_addresses=["10.244.0.0/16"], detect_local_mode="InterfaceNamePrefix",
                interface_name_prefix="veth"),
           dict(detect_local_mode="BridgeInterface", bridge_interface="cni0"),
           dict(detect_local_mode="NodeCIDR")]


@pytest.mark.parametrize(("name", "options"), [(name, {}) for name in KUBE_PROXY_LABS] + [
    pytest.param("pod-to-service-nftables.k8slab", options, id=f"options-{index}")
    for index, options in enumerate(OPTIONS)])
async def test_every_rulesets_reads_back_from_the_kernel_as_the_model_has_it(
        kernel, scratch, name, options):
    lab = await in_nftables_mode(name)
    try:
        if options:
            await lab.cluster.update_proxy_config("kube-proxy", "kube-system", **options)
        lab.cluster.wake_all()
        found, seen = [], set()
        for ns in lab.cluster.network.namespaces.values():
            text = ns.nft.list_ruleset() if has_tables(ns) else None
            if text is None or text in seen:   # most nodes hold the same table
                continue
            seen.add(text)
            run(in_ns(scratch, "nft", "flush", "ruleset"))
            for command in load_commands(scratch, ns):
                run(command)
            found += mismatches(ns, scratch)
    finally:
        await lab.close()
    assert seen and found == []


async def test_the_loadbalancer_lab_in_nftables_mode_probes_as_the_model_says(kernel):
    lab = await in_nftables_mode("loadbalancer.k8slab")
    try:
        first = min(p.key for p in lab.cluster.pods() if p.status.pod_ip)
        results = verify(lab.cluster, keep=lambda probe: probe.kind.startswith("outside→") or (
            probe.kind == "pod→svc" and probe.source_label == f"pod/{first}"))
    finally:
        await lab.close()
    assert any(r.probe.kind.startswith("outside→") for r in results)
    assert [(r.probe.label, r.problems) for r in results if not r.ok] == []
