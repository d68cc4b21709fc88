"""Fuzzing the lab-file loader: a real lab file with any field of its document replaced by
any msgpack value (and the checksum written again, so the checks behind it are reached),
and with bytes flipped or cut. Every file opens or is refused with one LabFileError line."""

from __future__ import annotations

import asyncio

import msgpack
from document_fuzz import SEEDED, changed, places, values
from hypothesis import given, settings
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
VALUES = values(["8\u00b2", "", "ipvs", "cilium", "10.244.0.0/16",
                 "trace pod/client svc/web --port 8\u00b2",
                 "traffic pod/client svc/web --count 99999999",
                 "sysctl -w net.ipv4.ip_forward=7", "1web"], max_leaves=6)
PLACES: dict[str, list] = {}  # by top-level field, so each is changed as often
for found in places(DOCUMENT, items=4):
    if found and found[0] not in ("format", "version"):
        PLACES.setdefault(found[0], []).append(found)


ANY_PLACE = st.sampled_from(sorted(PLACES)).flatmap(lambda field: st.sampled_from(PLACES[field]))


@st.composite
def documents(draw):
    return changed(draw, DOCUMENT, st.integers(1, 2), lambda _: ANY_PLACE, VALUES)


async def _open(data: bytes) -> None:
    try:
        lab = await build_lab(parse_document(data))
    except LabFileError as error:
        assert "\n" not in str(error)
        return
    await lab.close()


@settings(SEEDED, max_examples=120)
@given(document=documents())
def test_a_changed_field_opens_or_is_one_line(document):
    try:
        data = pack_document(document)
    except (TypeError, ValueError, OverflowError):
        return  # msgpack cannot hold it, so no file could
    asyncio.run(_open(data))


PACKED = pack_document(DOCUMENT)


@settings(SEEDED, max_examples=200)
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
