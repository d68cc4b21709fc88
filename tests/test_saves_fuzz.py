"""Fuzzing the lab-file loader: a real lab file with any field of its document replaced by
any msgpack value (and the checksum written again, so the checks behind it are reached),
and with bytes flipped or cut. Every file opens or is refused with one LabFileError line."""

from __future__ import annotations

import asyncio
import copy

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cluster.lab import build_default_lab
from playground.saves import LabFileError, build_lab, pack_document, pack_lab, parse_document
from playground.session.lab import Lab


async def _document() -> dict:
    cluster = await build_default_lab()
    lab = Lab(cluster)
    for line in ("kubectl create deployment shop --image=nginx --replicas=2 --port=80",
                 "kubectl expose deployment shop --port=80 --type=LoadBalancer",
                 "trace pod/client svc/shop", "reply", "traffic pod/client svc/web --count 3"):
        await lab.run(line)
    await lab.run("sysctl -w net.bridge.bridge-nf-call-iptables=0", "node/kind-worker")
    document = msgpack.unpackb(pack_lab(lab))
    await lab.close()
    del document["checksum"]
    return document


DOCUMENT = asyncio.run(_document())
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**64, 2**64 - 1),
                    st.floats(), st.text(max_size=16),
                    st.sampled_from(["8\u00b2", "", "ipvs", "cilium", "10.244.0.0/16",
                                     "trace pod/client svc/web --port 8\u00b2",
                                     "traffic pod/client svc/web --count 99999999",
                                     "sysctl -w net.ipv4.ip_forward=7", "1web"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:4]):
            yield from _paths(value, (*prefix, index))


PATHS: dict[str, list] = {}  # by top-level field, so each is changed as often
for found in _paths(DOCUMENT):
    if found and found[0] not in ("format", "version"):
        PATHS.setdefault(found[0], []).append(found)


@st.composite
def documents(draw):
    document = copy.deepcopy(DOCUMENT)
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(PATHS[draw(st.sampled_from(sorted(PATHS)))]))
        node = document
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change took the way there
    return document


async def _open(data: bytes) -> None:
    try:
        lab = await build_lab(parse_document(data))
    except LabFileError as error:
        assert "\n" not in str(error)
        return
    await lab.close()


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(document=documents())
def test_a_changed_field_opens_or_is_one_line(document):
    try:
        data = pack_document(document)
    except (TypeError, ValueError, OverflowError):
        return  # msgpack cannot hold it, so no file could
    asyncio.run(_open(data))


PACKED = pack_document(DOCUMENT)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(cut=st.integers(0, len(PACKED)), junk=st.binary(max_size=16),
       at=st.integers(0, len(PACKED) - 1))
def test_damaged_bytes_are_one_line(cut, junk, at):
    data = PACKED[:at] + junk + PACKED[at + len(junk):cut]
    if data == PACKED:
        return
    try:
        parse_document(data)
    except LabFileError as error:
        assert "\n" not in str(error)
    else:
        raise AssertionError("a damaged file was read as whole")
