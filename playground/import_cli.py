"""`k8s-playground import FILE... -o LAB`: a real cluster's `kubectl get -o yaml` output
rebuilt as a lab file, with a line for each thing the lab could not take."""

from __future__ import annotations

from playground.cluster.cluster import ClusterError
from playground.cluster.cni_guess import guess_cni
from playground.cluster.kinds import KINDS
from playground.cluster.kube_import import convert
from playground.cluster.manifest_apply import ManifestDoc
from playground.cluster.manifests import load_documents
from playground.cluster.restore import ClusterSettings, restore_cluster
from playground.saves import save_lab
from playground.session.lab import Lab


async def import_cluster(files: list[str], output: str) -> list[str]:
    """The lines to print; ClusterError naming the problem, and no file written, otherwise."""
    documents = [found for path in files for found in load_documents(path)]
    applies = {kind.name: kind.apply for kind in KINDS if kind.apply is not None}
    imported = convert(documents, set(applies))
    nodes = [o for o in imported.objects if o.kind == "Node"]
    if not nodes:
        raise ClusterError(f"{', '.join(files)}: no Node in the input (kubectl get nodes,pods,"
                           "services,endpointslices,networkpolicies,ingresses -A -o yaml)")
    kinds = [data for _, data in documents]
    guess = guess_cni([d for d in kinds if d.get("kind") == "Pod"],
                      [d for d in kinds if d.get("kind") == "Node"])
    settings = ClusterSettings(cni=guess.plugin, node_cidr_mask=imported.node_cidr_mask,
                               cluster_cidr=imported.cluster_cidr)
    notes = [guess.note] if guess.note else []
    notes.append("kube-proxy: its mode is not in the input (the kube-proxy ConfigMap); the lab "
                 "runs it in iptables mode")
    cluster = await restore_cluster(settings, imported.objects)
    try:
        for where, data in imported.applied:
            try:
                await applies[data["kind"]](cluster, ManifestDoc(where, data))
            except ClusterError as error:
                notes.append(f"not imported: {error}")
        await save_lab(Lab(cluster), output, keep_backup=False)
        pods = [p for p in cluster.pods()]
        summary = (f"wrote {output}: {len(nodes)} nodes, {len(pods)} pods, "
                   f"{len(cluster.services())} services; cni {guess.plugin}"
                   + (f" (as {guess.found})" if guess.found and not guess.note else "")
                   + f", cluster CIDR {settings.cluster_cidr}")
    finally:
        await cluster.stop()
    return [*imported.notes, *notes, summary]
