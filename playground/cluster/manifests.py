"""Kubernetes YAML manifests applied to a lab, each kind as the table of kinds says.

Every problem is reported as `FILE: document N (Kind/name): what is wrong`. All the files
given are read and checked whole before anything is applied, then applied whole
(manifest_plan says how): the first problem stops, and the lab is left as it was.
"""

from __future__ import annotations

from pathlib import Path

from playground.cluster import validation
from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.kinds import APPLIED, BY_NAME
from playground.cluster.kube_yaml import YamlError, load_all
from playground.cluster.manifest_apply import ManifestDoc, ManifestError
from playground.cluster.manifest_plan import Plan
from playground.limits import MAX_MANIFEST_BYTES, LimitError, read_bounded

__all__ = ["ManifestError", "apply_files", "load_documents"]


def load_documents(path: str) -> list[tuple[str, dict]]:
    try:
        if Path(path).is_dir():
            raise ManifestError(f"{path}: a folder, not a manifest")
        text = read_bounded(path, MAX_MANIFEST_BYTES, "manifest").decode("utf-8")
    except LimitError as error:
        raise ManifestError(str(error)) from None
    except OSError as error:
        raise ManifestError(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        documents = load_all(text)
    except YamlError as error:
        raise ManifestError(f"{path}: not valid YAML: {error}") from None
    found = []
    for index, data in enumerate(documents, start=1):
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: document {index}: expected a Kubernetes object")
        if data.get("kind") == "List":   # what kubectl get -o yaml prints: v1 List of items
            items = data.get("items")
            if not isinstance(items, list):
                raise ManifestError(f"{path}: document {index} (List): items: expected a list")
            for number, item in enumerate(items):
                where = f"{path}: document {index} (List) items[{number}]"
                if not isinstance(item, dict):
                    raise ManifestError(f"{where}: expected a Kubernetes object")
                found.append((f"{where} ({_named(item)})", item))
            continue
        found.append((f"{path}: document {index} ({_named(data)})", data))
    return found


def _named(data: dict) -> str:
    metadata = data.get("metadata")
    name = metadata.get("name") or metadata.get("generateName") if isinstance(
        metadata, dict) else None
    return f"{data.get('kind')}/{name}"


async def apply_files(cluster: Cluster, paths: list[str], create: bool = False) -> None:
    """Every document of every file checked, then all applied, or nothing and one line;
    `create` (kubectl create -f): an object already there is refused, not changed."""
    if not paths:
        return
    documents = [document for path in paths for document in load_documents(path)]
    if not documents:   # kubectl's words; a pipe without a writer is empty too
        raise ManifestError(f"{', '.join(paths)}: no objects passed to apply")
    for where, data in documents:
        problem = validation.type_errors(data.get("apiVersion"), data.get("kind"), APPLIED)
        if problem is not None:
            raise ManifestError(f"{where}: {problem}")
    plan = Plan(cluster)
    plan.create_only = create
    for where, data in sorted(documents, key=lambda d: d[1]["kind"] != "Namespace"):
        plan.where = where
        try:
            await BY_NAME[data["kind"]].apply(plan, ManifestDoc(where, data))
        except ManifestError:
            raise
        except ClusterError as error:
            raise ManifestError(str(error)) from None
    what = ", ".join(paths)
    try:
        plan.check_room(what)
        await plan.apply(what)
    except ClusterError as error:
        raise ManifestError(str(error)) from None
