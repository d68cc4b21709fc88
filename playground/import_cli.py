"""`k8s-playground import FILE... -o LAB`: a real cluster's `kubectl get -o yaml` output
rebuilt as a lab file, with a line for each thing the lab could not take."""

from __future__ import annotations

from pathlib import Path

from playground.cluster.cluster import ClusterError
from playground.cluster.cni_guess import guess_cni
from playground.cluster.kinds import KINDS
from playground.cluster.kube_import import convert
from playground.cluster.manifest_apply import ManifestDoc
from playground.cluster.manifests import load_documents
from playground.cluster.restore import ClusterSettings, restore_cluster
from playground.net.iptables_diff import DumpError, compare
from playground.saves import save_lab
from playground.session.lab import Lab
from playground.shell import Shell


def rules_files(pairs: list[str]) -> list[tuple[str, str, str]]:
    """--iptables-save NODE=FILE: (node, file, its text)."""
    found = []
    for pair in pairs:
        node, sep, path = pair.partition("=")
        if not sep or not node or not path:
            raise ClusterError(f"--iptables-save: {pair!r}: give NODE=FILE")
        try:
            found.append((node, path, Path(path).read_text(encoding="utf-8")))
        except OSError as error:
            raise ClusterError(f"{path}: cannot read it ({error.strerror or error})") from None
        except UnicodeDecodeError:
            raise ClusterError(f"{path}: not UTF-8 text") from None
    return found


async def compared(cluster, node: str, path: str, text: str) -> list[str]:
    """The differences between a node's own iptables-save and the model's for it."""
    if cluster.api.peek("Node", "", node) is None:
        raise ClusterError(f"--iptables-save: {node!r} is not a node of the input")
    model = (await Shell(cluster).run("iptables-save", f"node/{node}")).output
    try:
        found = compare(text, model, path)
    except DumpError as error:
        raise ClusterError(str(error)) from None
    lines = [f"{node} iptables-save: only on the node: *{table} {rule}"
             for table, rule in found.only_real]
    lines += [f"{node} iptables-save: only in the model: *{table} {rule}"
              for table, rule in found.only_model]
    return lines + [f"{node} iptables-save: {found.agree} chains and rules agree, "
                    f"{len(found.only_real)} only on the node, {len(found.only_model)} only "
                    "in the model"]


async def import_cluster(files: list[str], output: str,
                         iptables: list[str] | None = None) -> list[str]:
    """The lines to print; ClusterError naming the problem, and no file written, otherwise."""
    dumps = rules_files(iptables or [])
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
        for node, path, text in dumps:
            notes.extend(await compared(cluster, node, path, text))
        await save_lab(Lab(cluster), output, keep_backup=False)
        pods = [p for p in cluster.pods()]
        summary = (f"wrote {output}: {len(nodes)} nodes, {len(pods)} pods, "
                   f"{len(cluster.services())} services; cni {guess.plugin}"
                   + (f" (as {guess.found})" if guess.found and not guess.note else "")
                   + f", cluster CIDR {settings.cluster_cidr}")
    finally:
        await cluster.stop()
    return [*imported.notes, *notes, summary]
