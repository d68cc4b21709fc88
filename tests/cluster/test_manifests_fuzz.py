"""Fuzzing the manifest reader: real manifests with fields replaced by any YAML value, and
raw text. Every file is either applied whole or refused with one ManifestError line, and a
refused file leaves the lab as it was."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import yaml
from document_fuzz import SEEDED, changed, places, values
from hypothesis import given, settings
from hypothesis import strategies as st
from lab_state import lab_state

from playground.cluster.lab import build_default_lab
from playground.cluster.manifests import ManifestError, apply_files, load_documents

BASE = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "cart", "namespace": "shop", "labels": {"app": "cart"}},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}},
              "template": {"metadata": {"labels": {"app": "cart"}},
                           "spec": {"containers": [{"name": "c", "image": "nginx",
                                                    "ports": [{"containerPort": 80,
                                                               "name": "http"}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop"},
     "spec": {"type": "NodePort", "selector": {"app": "cart"},
              "ports": [{"port": 80, "targetPort": "http", "nodePort": 30111}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "box", "namespace": "shop"},
     "spec": {"containers": [{"name": "box", "image": "busybox"}],
              "tolerations": [{"key": "k", "operator": "Exists"}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
     "metadata": {"name": "front", "namespace": "shop"},
     "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [
         {"path": "/", "pathType": "Prefix",
          "backend": {"service": {"name": "cart", "port": {"number": 80}}}}]}}]}},
]

VALUES = values(["8\u00b2", "", "0", "65536", "Local", "LoadBalancer", "1web", "a" * 64, "-",
                 "10.96.0.0", "TCP", "SCTP"], max_leaves=8)


@st.composite
def manifests(draw):
    documents = draw(st.lists(st.sampled_from(BASE), min_size=1, max_size=5))
    return yaml.safe_dump_all(changed(draw, documents, st.integers(0, 3),
                                      lambda docs: st.sampled_from(list(places(docs))[1:]),
                                      VALUES))


@settings(SEEDED, max_examples=80)
@given(text=manifests())
def test_a_manifest_is_applied_whole_or_refused_in_one_line(text):
    asyncio.run(_apply(text))


async def _apply(text: str) -> None:
    lab = await build_default_lab()
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "fuzz.yaml"
            path.write_text(text)
            before = lab_state(lab)
            try:
                await apply_files(lab, [str(path)])
            except ManifestError as error:
                assert "\n" not in str(error)
                assert lab_state(lab) == before
    finally:
        await lab.stop()


@settings(SEEDED, max_examples=200)
@given(text=st.one_of(st.text(max_size=200), st.builds(
    "".join, st.lists(st.sampled_from(["a: ", "&x ", "*x ", "[", "]", "{", "}", "- ", "\n",
                                       "  ", "? ", ": ", "<<: ", "!!str ", "!!binary ",
                                       "'", '"', "---\n", "...\n", "#", "%YAML 1.1\n",
                                       "\t", "9", "\u00b2"]), max_size=60))))
def test_the_reader_never_fails_but_in_one_line(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text)
        try:
            load_documents(str(path))
        except ManifestError as error:
            assert "\n" not in str(error)
