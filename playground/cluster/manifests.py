"""Kubernetes YAML manifests applied to a lab, each kind as the table of kinds says.

Every problem is reported as `FILE: document N (Kind/name): what is wrong`; the kinds of
a file are checked before anything of it is applied, and the first problem stops.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from playground.cluster.cluster import Cluster, ClusterError
from playground.cluster.kinds import APPLIED, BY_NAME
from playground.cluster.manifest_apply import ManifestDoc, ManifestError

__all__ = ["ManifestError", "apply_files", "load_documents"]
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def load_documents(path: str) -> list[tuple[str, dict]]:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{path}: larger than {MAX_MANIFEST_BYTES // 1024 // 1024} MiB")
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(f"{path}: cannot read it ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    found = []
    for index, data in enumerate(documents, start=1):
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ManifestError(f"{path}: document {index}: expected a Kubernetes object")
        kind = data.get("kind")
        name = (data.get("metadata") or {}).get("name") if isinstance(
            data.get("metadata"), dict) else None
        found.append((f"{path}: document {index} ({kind}/{name})", data))
    return found


async def apply_files(cluster: Cluster, paths: list[str]) -> None:
    for path in paths:
        documents = load_documents(path)
        for where, data in documents:
            kind = data.get("kind")
            if kind not in APPLIED:
                raise ManifestError(f"{where}: kind {kind!r} is not supported here "
                                    f"(supported: {', '.join(APPLIED)})")
        order = sorted(documents, key=lambda d: d[1]["kind"] != "Namespace")
        for where, data in order:
            doc = ManifestDoc(where, data)
            try:
                await BY_NAME[data["kind"]].apply(cluster, doc)
            except ManifestError:
                raise
            except ClusterError as error:
                raise ManifestError(f"{where}: {error}") from None
