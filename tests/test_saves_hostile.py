"""Broken and hostile lab files: each gives one clear line naming the problem, and the lab
already open stays exactly as it was. The object cases are written as version-1 files (an
object a map), which load through the migration; TABLES breaks the tables of version 2
(tests/cluster/test_columns.py has every way a table can break)."""

from __future__ import annotations

import copy

import msgpack
import pytest

from playground import saves
from playground.cluster.codec import encode
from playground.cluster.restore import saved_objects
from playground.saves import LabFileError, load_lab, pack_lab
from playground.session.lab import Lab


def mutated(change):
    def build(document: dict) -> bytes:
        document = copy.deepcopy(document)
        change(document)
        return msgpack.packb(document, use_bin_type=True)
    return build


def pod(document: dict, name: str) -> dict:
    return next(o for o in document["objects"]
                if o["kind"] == "Pod" and o["metadata"]["name"] == name)


def service(document: dict, name: str) -> dict:
    return next(o for o in document["objects"]
                if o["kind"] == "Service" and o["metadata"]["name"] == name)


def nested(depth: int) -> bytes:
    return b"\x91" * depth + b"\xc0"


def raw_layout(value: bytes):
    """The document with its layout's bytes replaced by `value`, packed by hand."""
    def build(document: dict) -> bytes:
        head = {k: v for k, v in document.items() if k != "layout"}
        packed = msgpack.packb(head, use_bin_type=True)
        return bytes([packed[0] + 1]) + packed[1:] + msgpack.packb("layout") + value
    return build


def set_in(path: str, value):
    def change(document: dict) -> None:
        node = document
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return mutated(change)


CORPUS = {
    "wrong magic": (lambda d: b"apiVersion: v1\nkind: Pod\n", "not a lab file"),
    "another format": (mutated(lambda d: d.update(format="k8s-lab")), "not a lab file"),
    "newer version": (set_in("version", saves.VERSION + 1), "newer k8s-playground"),
    "version zero": (set_in("version", 0), "version 0 is not a lab file version"),
    "truncated": (lambda d: msgpack.packb(d)[:5000], "truncated"),
    "trailing bytes": (lambda d: msgpack.packb(d) + b"\x00", "bytes after the end"),
    "unknown field": (mutated(lambda d: d.update(extra=1)), "unknown top-level field 'extra'"),
    "missing field": (mutated(lambda d: d.pop("objects")), "'objects' is missing"),
    "seed of the wrong type": (set_in("settings.seed", "zero"), "settings.seed"),
    "unknown cni": (set_in("settings.cni", "flannel"), "settings.cni: 'flannel'"),
    "unknown proxy mode": (set_in("settings.proxy_mode", "userspace"),
                           "settings.proxy_mode: 'userspace' is not one of iptables, nftables, "
                           "ipvs"),
    "proxy mode for cilium": (mutated(lambda d: d["settings"].update(cni="cilium",
                                                                      proxy_mode="ipvs")),
                              "the cilium CNI replaces kube-proxy"),
    "short random state": (set_in("settings.rng", [1, 2, 3]), "settings.rng"),
    "infinite clock": (set_in("settings.clock", float("inf")), "settings.clock"),
    "cluster CIDR not a network": (set_in("settings.cluster_cidr", "10.0.0.0/33"),
                                   "settings.cluster_cidr: cluster CIDR '10.0.0.0/33'"),
    "cluster CIDR over the services": (set_in("settings.cluster_cidr", "10.0.0.0/8"),
                                       "overlaps the service range 10.96.0.0/12"),
    "cluster CIDR public": (set_in("settings.cluster_cidr", "8.0.0.0/8"),
                            "expected a private range"),
    "cluster CIDR of the wrong type": (set_in("settings.cluster_cidr", 10),
                                       "settings.cluster_cidr"),
    "cluster CIDR too small for nodes": (set_in("settings.cluster_cidr", "10.244.0.0/24"),
                                         "must be longer than /24"),
    "objects not a list": (set_in("objects", {"a": 1}), "objects: expected a list"),
    "unknown kind": (mutated(lambda d: d["objects"].append({"kind": "Lease"})),
                     "kind 'Lease' is not one a lab holds"),
    "field of the wrong type": (
        mutated(lambda d: pod(d, "client")["spec"].update(containers="curl")),
        "spec.containers: expected a list, got str"),
    "unknown object field": (mutated(lambda d: pod(d, "client")["spec"].update(hostNet=True)),
                             "unknown field 'hostNet'"),
    "invalid object": (mutated(lambda d: pod(d, "client")["metadata"].update(name="Bad_Name")),
                       'The Pod "Bad_Name" is invalid'),
    "pod outside its node's CIDR": (
        mutated(lambda d: pod(d, "client")["status"].update(pod_ip="10.244.9.9")),
        "is not an address of node kind-worker's pod CIDR"),
    "two Services, one ClusterIP": (
        mutated(lambda d: service(d, "web")["spec"].update(cluster_ip="10.96.0.10")),
        "clusterIP 10.96.0.10 is also default/web's"),
    "an object twice": (mutated(lambda d: d["objects"].append(copy.deepcopy(pod(d, "app")))),
                        "Pod default/app is listed twice"),
    "a history line that is not replayable": (
        mutated(lambda d: d["history"].append({"line": "kubectl delete pod web-1",
                                               "selected": None, "clock": 1.0, "rng": None})),
        "is not a command a lab replays"),
    "a history entry of the wrong shape": (
        mutated(lambda d: d["history"].append({"line": "reply", "clock": 1.0})),
        "history[0]: expected a map of line, selected, clock and rng"),
    "a lesson of the wrong shape": (set_in("lesson", {"id": 7, "done": []}), "lesson.id"),
    "ext type": (raw_layout(msgpack.packb({"x": msgpack.ExtType(5, b"code")})),
                 "msgpack extension value (type 5)"),
    "non-string keys": (raw_layout(msgpack.packb({1: "one"})), "not allowed for map key"),
    "deeply nested": (raw_layout(nested(200_000)), "nested too deeply"),
    "huge declared length": (raw_layout(b"\xdd\xff\xff\xff\xff"), "exceeds max_array_len"),
    "huge declared string": (raw_layout(b"\xdb\xff\xff\xff\xf0"), "truncated"),
    "not UTF-8": (raw_layout(b"\xa2\xff\xfe"), "not valid UTF-8"),
}


def version_1(document: dict, lab: Lab) -> dict:
    """The lab as a version-1 file had it: each object its own map (and no history)."""
    return {**document, "version": 1, "history": [],
            "objects": [encode(obj) for obj in saved_objects(lab.cluster)]}


def pod_columns(document: dict) -> dict:
    return document["objects"]["Pod"]["columns"]


def version_2(change):
    def build(document: dict) -> bytes:
        document = copy.deepcopy(document)
        document.update(version=2, history=[])
        change(document)
        return msgpack.packb(document, use_bin_type=True)
    return build


TABLES = {
    "objects not tables": (version_2(lambda d: d.update(objects=[])),
                           "objects: expected a map of kinds, got list"),
    "more objects than allowed": (
        version_2(lambda d: d["objects"]["Pod"].update(count=saves.MAX_OBJECTS + 1)),
        f"objects: more than the {saves.MAX_OBJECTS} objects allowed"),
    "an unknown kind": (version_2(lambda d: d["objects"].update(Lease={})),
                        "objects.Lease: 'Lease' is not a kind a lab holds"),
    "a column too short": (version_2(lambda d: pod_columns(d)["metadata.name"].pop()),
                           "objects.Pod.metadata.name: expected"),
    "a value of the wrong type": (
        version_2(lambda d: pod_columns(d).update({"spec.node_name": {"same": 5}})),
        "objects.Pod[0].spec.node_name: expected str or nothing, got int"),
    "an invalid object": (
        version_2(lambda d: pod_columns(d)["metadata.name"].__setitem__(0, "Bad_Name")),
        'The Pod "Bad_Name" is invalid'),
}


@pytest.fixture
async def open_lab(lab):
    """A lab the user has open, with some history, to be left untouched."""
    opened = Lab(lab)
    await opened.run("trace pod/client svc/web")
    return opened


@pytest.mark.parametrize("case", [*CORPUS, *TABLES], ids=str)
async def test_a_bad_file_gets_one_clear_line_and_the_open_lab_is_untouched(
        case, open_lab, tmp_path):
    make, expected = CORPUS[case] if case in CORPUS else TABLES[case]
    before = pack_lab(open_lab)
    document = msgpack.unpackb(before)
    del document["checksum"]  # the cases are files of versions 1 and 2, which had none
    if case in CORPUS:
        document = version_1(document, open_lab)
    path = tmp_path / "bad.k8slab"
    path.write_bytes(make(document))
    with pytest.raises(LabFileError) as error:
        await load_lab(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert expected in message
    assert pack_lab(open_lab) == before
    assert (await open_lab.run("trace pod/client svc/web")).trace.verdict == "delivered"


async def test_an_oversized_file_is_refused_before_it_is_read(open_lab, tmp_path):
    path = tmp_path / "huge.k8slab"
    with open(path, "wb") as file:
        file.truncate(saves.MAX_LAB_BYTES + 1)
    with pytest.raises(LabFileError, match="more than a lab file may hold"):
        await load_lab(path)


async def test_a_missing_file(tmp_path):
    with pytest.raises(LabFileError, match="cannot read it"):
        await load_lab(tmp_path / "nowhere.k8slab")


async def test_a_journal_line_whose_pod_is_gone_is_left_out_and_the_lab_loads(lab, tmp_path):
    opened = Lab(lab)
    await opened.run("trace pod/client pod/web-1")
    await opened.run("kubectl delete pod web-1")
    await opened.run("trace pod/client svc/web")
    path = tmp_path / "stale.k8slab"
    path.write_bytes(pack_lab(opened))
    loaded = await load_lab(path)
    try:
        assert loaded.skipped == ["trace pod/client pod/web-1"]
        assert [a.line for a in loaded.history] == ["trace pod/client svc/web"]
    finally:
        await loaded.close()
