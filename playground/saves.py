"""Lab files: a whole lab in one msgpack file, saved so that no crash loses work and loaded
so that no file, however broken or hostile, can hurt the lab already open.

A lab file is one msgpack map, keys in this order:

    format    "k8s-playground-lab"
    version   8
    checksum  "sha256:" and the hex SHA-256 of the packed version and every byte after this
              value (the rest of the map; version 3 and 4: those bytes alone), checked
              before anything else of the file is decoded
    settings  cni, seed, node_cidr_mask, bridges (nodes whose cni0 outlived its pods); clock,
              rng, uids, resource_version (where the lab's clock, random source and counters
              stood, so it goes on the same way); proxy_mode (kube-proxy's mode, written
              only when it is not iptables, so older files and iptables labs agree),
              cluster_cidr (the pods' range, written only when it is not 10.244.0.0/16)
              and lb (the load-balancer provider, written only when it is not cloud)
    objects   the API objects (the desired state): a table per kind (Namespace, Node,
              Service, EndpointSlice, Pod, ReplicaSet, Deployment, Ingress: the table of
              kinds, cluster/kinds.py), a column per field, a value
              many objects share (a Deployment's containers, a node's name) written once
              and defaults left out; playground/cluster/columns.py says how
    history   the replayable commands (traces, replies, traffic, ip route, sysctl)
    lesson    the guided lab in progress and its ticked tasks, or nothing
    layout    a small map of the app's own settings (str to str, int or bool)

Version 1 kept each object as its own map ({"kind": "Pod", "metadata": {...}, ...}); such
files load through MIGRATIONS, which turns them into tables. Version 2 had no ReplicaSets:
its Deployments' pods are given one on load. Version 3 had no checksum. Version 4 had no
externalIPs, externalName, endpoint zone and hostname, pod hostname and subdomain columns.
Version 5 had no hostNetwork, hostPort nor hostIP: they read as unset. Version 6 had no
hostNetwork on workloads' templates (Deployment, ReplicaSet, DaemonSet, StatefulSet): false.
Version 7 kept those workloads' template fields as their own columns (template_labels,
containers, node_selector, tolerations, host_network): version 8 has them under `template.`.

Loading checks everything, replays the objects into a fresh cluster, lets the controllers
converge, replays the history, and only then hands back the new Lab.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import shlex
import stat
from collections import Counter
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import msgpack

from playground.atomic_files import remove_leftovers, write_atomically
from playground.cluster.cluster import (
    CLUSTER_CIDR,
    ClusterError,
    check_cluster_cidr,
    replaces_kube_proxy,
)
from playground.cluster.codec import DecodeError
from playground.cluster.columns import check_tables, decode_tables, encode_tables, tables_from_maps
from playground.cluster.legacy import OWNER_ANNOTATION
from playground.cluster.restore import (
    ClusterSettings,
    Progress,
    nodes_with_bridge,
    restore_cluster,
    saved_objects,
)
from playground.commands.table import replayed, replayed_names
from playground.limits import (
    MAX_LAB_BYTES,
    MAX_REPLAY_PACKETS,
    LimitError,
    check_pod_total,
    file_kind,
    read_bounded,
)
from playground.numbers import NumberError, whole
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES
from playground.session.lab import Lab, LessonProgress
from playground.session.layout import MAX_TEXT, LabFileError, check_layout
from playground.shell import ShellError

FORMAT = "k8s-playground-lab"
VERSION = 8
SUFFIX = ".k8slab"
MAX_OBJECTS = 250_000  # the envelope holds about 176,000
MAX_HISTORY = 5_000
MT_STATE_WORDS = 625  # random.Random (Mersenne Twister): 624 words and a position
KEYS = ("format", "version", "settings", "objects", "history", "lesson", "layout")
CHECKSUM = "sha256:"
HEAD_BYTES = 160  # format, version and checksum, with room to spare
SETTING_KEYS = ("cni", "seed", "node_cidr_mask", "bridges", "clock", "rng", "uids",
                "resource_version")
OPTIONAL_SETTING_KEYS = ("proxy_mode", "cluster_cidr", "lb")
CNIS = tuple(CNI_PLUGINS)


def _from_version_1(document: dict) -> dict:
    """Version 1 kept each object as its own map; version 2 keeps a table per kind (in
    today's columns: a workload's template fields go under `template` first)."""
    if "objects" in document:
        _check_list(document["objects"], "objects", MAX_OBJECTS)
        try:
            document["objects"] = tables_from_maps([_templated(data) for data in
                                                    document["objects"]])
        except DecodeError as error:
            raise LabFileError(str(error)) from None
    return {**document, "version": 2}


def _from_version_2(document: dict) -> dict:
    """Version 3 has ReplicaSets, and Deployments lost two fields nothing ever set
    (available, pod_names); version 2's pods are adopted on load (cluster/legacy.py)."""
    objects = document.get("objects")
    table = objects.get("Deployment") if isinstance(objects, dict) else None
    columns = table.get("columns") if isinstance(table, dict) else None
    if isinstance(columns, dict):
        for gone in ("available", "pod_names"):
            columns.pop(gone, None)
    return {**document, "version": 3}


def _from_version_3(document: dict) -> dict:
    return {**document, "version": 4}  # the checksum, if any, was checked on the bytes


def _from_version_4(document: dict) -> dict:
    """Version 5 adds columns whose defaults version 4's objects all had (a column left out
    is its default), so its tables read as they are."""
    return {**document, "version": 5}


# version N -> a function turning a version-N document into a version-(N+1) one
def _from_version_5(document: dict) -> dict:
    """Version 6 adds hostNetwork (a pod's spec) and hostPort and hostIP (a container
    port's); version 5's objects have none, so they read as they are."""
    return {**document, "version": 6}


def _from_version_6(document: dict) -> dict:
    """Version 7 adds hostNetwork to the workloads' templates (Deployment, ReplicaSet,
    DaemonSet, StatefulSet); version 6's have none: the column left out reads as false, and
    their template hashes, which print it only when true, stay as they were."""
    return {**document, "version": 7}


def _from_version_7(document: dict) -> dict:
    """Version 8 keeps a workload's pod template as one record (the API's spec.template):
    its columns are renamed under `template.`, their values unchanged."""
    objects = document.get("objects")
    for kind in WORKLOADS:
        table = objects.get(kind) if isinstance(objects, dict) else None
        columns = table.get("columns") if isinstance(table, dict) else None
        if isinstance(columns, dict):
            table["columns"] = {TEMPLATE_COLUMNS.get(name, name): column
                                for name, column in columns.items()}
    return {**document, "version": 8}


WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet")
# version 7's column of each template field, and its name since
TEMPLATE_COLUMNS = {"template_labels": "template.labels", "containers": "template.containers",
                    "node_selector": "template.node_selector",
                    "tolerations": "template.tolerations",
                    "host_network": "template.host_network"}


def _templated(data: Any) -> Any:
    """A version-1 map of a workload with its template fields gathered under `template`."""
    if not isinstance(data, dict) or data.get("kind") not in WORKLOADS:
        return data
    moved = {name: data[name] for name in TEMPLATE_COLUMNS if name in data}
    if not moved:
        return data
    template = {TEMPLATE_COLUMNS[name].partition(".")[2]: value for name, value in
                moved.items()}
    return {**{k: v for k, v in data.items() if k not in moved}, "template": template}


MIGRATIONS: dict[int, Any] = {1: _from_version_1, 2: _from_version_2, 3: _from_version_3,
                              4: _from_version_4, 5: _from_version_5, 6: _from_version_6,
                              7: _from_version_7}


class DamagedLabFile(LabFileError):
    """The bytes do not match the checksum written with them: the file was damaged.
    `alternatives`: where the same lab may still be whole (its backup, the recovery file)."""

    def __init__(self, message: str, alternatives: tuple[Path, ...] = ()) -> None:
        super().__init__(message)
        self.alternatives = alternatives


# writing

def lab_document(lab: Lab) -> dict:
    cluster, network = lab.cluster, lab.cluster.network
    version, words, gauss = network.rng.getstate()
    if version != 3 or gauss is not None:  # never drawn by the lab; refuse to lose it silently
        raise LabFileError("the lab's random source is in a state a lab file cannot hold")
    settings = {"cni": cluster.cni.name, "seed": cluster.seed, "node_cidr_mask":
                cluster.allocator.node_mask, "bridges": nodes_with_bridge(cluster),
                "clock": float(network.clock), "rng": list(words),
                "uids": cluster.api.uid_counter,
                "resource_version": cluster.api.resource_version}
    if cluster.proxy_mode != "iptables":
        settings["proxy_mode"] = cluster.proxy_mode
    if cluster.cluster_cidr != CLUSTER_CIDR:
        settings["cluster_cidr"] = str(cluster.cluster_cidr)
    if cluster.lb.name != "cloud":
        settings["lb"] = cluster.lb.name
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": settings,
        "objects": encode_tables(saved_objects(cluster)),
        "history": [{"line": a.line, "selected": a.selected, "clock": float(a.clock),
                     "rng": list(a.rng[1]) if a.rng else None} for a in lab.history],
        "lesson": {"id": lab.lesson.lesson, "done": list(lab.lesson.done)}
        if lab.lesson else None,
        "layout": dict(lab.layout),
    }


def pack_lab(lab: Lab) -> bytes:
    return pack_document(lab_document(lab))


def pack_document(document: dict) -> bytes:
    """format and version first, then the checksum of the bytes that follow it."""
    packer = msgpack.Packer(use_bin_type=True)
    body = b"".join(packer.pack(key) + packer.pack(value) for key, value in document.items()
                    if key not in ("format", "version"))
    version = document["version"]
    head = packer.pack_map_header(len(document) + 1) + packer.pack("format") + \
        packer.pack(document["format"]) + packer.pack("version") + \
        packer.pack(version) + packer.pack("checksum") + \
        packer.pack(CHECKSUM + _digest(version, body))
    return head + body




async def save_lab(lab: Lab, path: str | os.PathLike, keep_backup: bool = True) -> None:
    """Save the lab to PATH; LabFileError (nothing changed on disk) if it cannot be."""
    data = pack_lab(lab)
    try:
        await asyncio.to_thread(write_atomically, path, data, keep_backup)
    except OSError as error:
        raise LabFileError(f"{path}: cannot save ({error.strerror or error})") from None


# recovery

def recovery_path() -> Path:
    """Where autosave keeps the lab: $XDG_STATE_HOME/k8s-playground/recovery.k8slab."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "k8s-playground" / f"recovery{SUFFIX}"


async def autosave(lab: Lab) -> Path:
    """Save to the recovery file (after each change); the app offers it at the next start."""
    path = recovery_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LabFileError(f"{path.parent}: cannot create it ({error.strerror})") from None
    await save_lab(lab, path, keep_backup=False)
    return path


def pending_recovery() -> Path | None:
    """The recovery file, if the last run left one (its killed saves' leftovers go now)."""
    path = recovery_path()
    remove_leftovers(path)
    return path if path.is_file() else None


def discard_recovery() -> None:
    """After a clean save or exit, the recovery file has nothing more to offer."""
    try:
        recovery_path().unlink()
    except FileNotFoundError:
        pass


# reading

def looks_like_lab(head: bytes) -> bool:
    """A lab file starts with a msgpack map whose first entry is format: k8s-playground-lab."""
    magic = msgpack.packb("format") + msgpack.packb(FORMAT)
    return (0x80 <= head[:1][0] <= 0x8F and head[1:1 + len(magic)] == magic) if head else False


def is_lab_file(path: str | os.PathLike) -> bool:
    """A regular file that starts as a lab file does (a pipe or device is never opened)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as file:
            return looks_like_lab(file.read(32))
    except OSError:
        return False


def check_readable(path: str | os.PathLike) -> None:
    """LabFileError unless the file is there, readable and not too big: what can be known
    at once, before a long load starts."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):   # a pipe without a writer would never open
            raise LabFileError(f"{path}: not a lab file: a {file_kind(status.st_mode)}, and a "
                               "lab file is read from a regular file only")
        size = status.st_size
        if size > MAX_LAB_BYTES:
            raise LabFileError(f"{path}: {size} bytes is more than a lab file may hold "
                               f"({MAX_LAB_BYTES // 1024 // 1024} MiB)")
        with open(path, "rb"):
            pass
    except OSError as error:
        raise LabFileError(f"{path}: cannot read it ({error.strerror or error})") from None


def read_document(path: str | os.PathLike) -> dict:
    """The file's checked, migrated document; LabFileError naming the problem otherwise.
    A pipe or device is refused before it is opened; a regular file's head is read first."""
    check_readable(path)
    try:
        if not is_lab_file(path):
            raise LabFileError(f"not a lab file (it does not start with the {FORMAT} header)")
        data = read_bounded(path, MAX_LAB_BYTES, "lab file")
    except LimitError as error:
        raise LabFileError(str(error)) from None
    except OSError as error:
        raise LabFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    except LabFileError as error:
        raise LabFileError(f"{path}: {error}") from None
    try:
        return parse_document(data)
    except DamagedLabFile as error:
        found = alternatives(Path(path))
        offer = f"; open {' or '.join(map(str, found))} instead" if found else ""
        raise DamagedLabFile(f"{path}: {error}{offer}", found) from None
    except LabFileError as error:
        raise LabFileError(f"{path}: {error}") from None


def alternatives(path: Path) -> tuple[Path, ...]:
    """Where the same lab may still be whole: its backup and the recovery file, those there."""
    return tuple(other for other in (path.with_name(path.name + ".bak"), recovery_path())
                 if other.is_file() and other.resolve() != path.resolve())


def _digest(version: int, body) -> str:
    """From version 5 on the checksum covers the version too: 5 is one bit from 4, and a
    flipped bit must never make a file read as another version."""
    hashed = hashlib.sha256(msgpack.packb(version) if version >= 5 else b"")
    hashed.update(body)
    return hashed.hexdigest()


def verify_checksum(data: bytes) -> bool:
    """Whether the file carries a checksum (version 3 on), DamagedLabFile if it does not
    match; a head too broken to tell is left to unpack, which names the problem."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=HEAD_BYTES, max_bin_len=0,
                                max_ext_len=0)
    unpacker.feed(data[:HEAD_BYTES])
    try:
        unpacker.read_map_header()
        entries = [unpacker.unpack() for _ in range(4)]
        if entries[:3] != ["format", FORMAT, "version"] or not _is_int(entries[3]) or \
                not 3 <= entries[3] <= VERSION:  # older: none; newer: parse_document says so
            return False
        key, value = unpacker.unpack(), unpacker.unpack()
    except Exception:  # msgpack raises many kinds on broken bytes; unpack names them
        return False
    if key != "checksum" or not isinstance(value, str) or not value.startswith(CHECKSUM):
        raise DamagedLabFile("the file is damaged: its checksum is missing")
    if _digest(entries[3], memoryview(data)[unpacker.tell():]) != value.removeprefix(CHECKSUM):
        if _truncated(data):
            raise DamagedLabFile("the file ends early (truncated)")
        raise DamagedLabFile("the file is damaged: its contents do not match the checksum "
                             "written with them")
    return True


def _truncated(data: bytes) -> bool:
    """Whether the bytes stop inside the map: a cut file, not a changed one (the limits of
    unpack hold for this look too)."""
    try:
        unpack(data)
    except LabFileError as error:
        return "truncated" in str(error)
    return False




def _refuse_ext(code: int, data: bytes):
    raise LabFileError(f"it holds a msgpack extension value (type {code}), which lab files "
                       "never contain")


def unpack(data: bytes) -> Any:
    if len(data) > MAX_LAB_BYTES:
        raise LabFileError(f"more than {MAX_LAB_BYTES // 1024 // 1024} MiB")
    if not looks_like_lab(data[:32]):
        raise LabFileError(f"not a lab file (it does not start with the {FORMAT} header)")
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=True, ext_hook=_refuse_ext,
                                max_buffer_size=MAX_LAB_BYTES, max_str_len=MAX_LAB_BYTES,
                                max_bin_len=0, max_array_len=MAX_LAB_BYTES // 2,
                                max_map_len=MAX_LAB_BYTES // 4, max_ext_len=1024)
    try:
        unpacker.feed(data)
        document = unpacker.unpack()
    except msgpack.OutOfData:
        raise LabFileError("the file ends early (truncated)") from None
    except msgpack.StackError:
        raise LabFileError("values nested too deeply") from None
    except LabFileError:
        raise
    except UnicodeDecodeError:
        raise LabFileError("a string is not valid UTF-8") from None
    except (ValueError, TypeError) as error:
        raise LabFileError(f"not valid msgpack ({error})") from None
    if unpacker.tell() != len(data):
        raise LabFileError("there are bytes after the end of the lab")
    return document


def parse_document(data: bytes) -> dict:
    checked = verify_checksum(data)
    document = unpack(data)
    if not isinstance(document, dict):
        raise LabFileError("not a lab file (the top level is not a map)")
    if "checksum" in document:
        if not checked:  # only a damaged version byte can hide a checksum written
            raise DamagedLabFile("the file is damaged: it has a checksum its version "
                                 f"({document.get('version')!r}) never had")
        del document["checksum"]

    if document.get("format") != FORMAT:
        raise LabFileError(f"not a lab file (format is {document.get('format')!r})")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LabFileError(f"version {version!r} is not a lab file version")
    if version > VERSION:
        raise LabFileError(f"it was written by a newer k8s-playground (lab file version "
                           f"{version}; this one reads up to {VERSION}): upgrade to open it")
    while version < VERSION:
        document = MIGRATIONS[version](document)
        version = document["version"]
    unknown = [key for key in document if key not in KEYS]
    if unknown:
        raise LabFileError(f"unknown top-level field {unknown[0]!r}")
    missing = [key for key in KEYS if key not in document]
    if missing:
        raise LabFileError(f"the field {missing[0]!r} is missing")
    _check_settings(document["settings"])
    try:
        check_tables(document["objects"], "objects", MAX_OBJECTS)
    except DecodeError as error:
        raise LabFileError(str(error)) from None
    _check_list(document["history"], "history", MAX_HISTORY)
    for index, entry in enumerate(document["history"]):
        _check_action(entry, f"history[{index}]")
    _check_replay_budget(document["history"])
    _check_lesson(document["lesson"])
    check_layout(document["layout"], "layout")
    return document


def _check_list(value: Any, where: str, limit: int) -> None:
    if not isinstance(value, list):
        raise LabFileError(f"{where}: expected a list, got {type(value).__name__}")
    if len(value) > limit:
        raise LabFileError(f"{where}: {len(value)} entries, more than the {limit} allowed")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_rng(words: Any, where: str) -> None:
    if not (isinstance(words, list) and len(words) == MT_STATE_WORDS
            and all(_is_int(w) and 0 <= w < 2**32 for w in words)
            and words[-1] <= MT_STATE_WORDS - 1):
        raise LabFileError(f"{where}: expected the {MT_STATE_WORDS} numbers of a random state")


def _check_clock(value: Any, where: str) -> None:
    if not isinstance(value, float) or not math.isfinite(value) or not 0 <= value < 1e12:
        raise LabFileError(f"{where}: expected a number of seconds of lab time")


def _check_settings(settings: Any) -> None:
    if not isinstance(settings, dict) or sorted(
            key for key in settings if key not in OPTIONAL_SETTING_KEYS) != sorted(SETTING_KEYS):
        raise LabFileError(f"settings: expected a map of {', '.join(SETTING_KEYS)} "
                           f"(and optionally {', '.join(OPTIONAL_SETTING_KEYS)})")
    for key in ("cni", "proxy_mode", "cluster_cidr", "lb"):
        if key in settings and not isinstance(settings[key], str):
            raise LabFileError(f"settings.{key}: expected a string, got "
                               f"{type(settings[key]).__name__}")
    if settings.get("proxy_mode", "iptables") not in PROXY_MODES:
        raise LabFileError(f"settings.proxy_mode: {settings['proxy_mode']!r} is not one of "
                           f"{', '.join(PROXY_MODES)}")
    if settings.get("lb", "cloud") not in LB_PROVIDERS:
        raise LabFileError(f"settings.lb: {settings['lb']!r} is not one of "
                           f"{', '.join(LB_PROVIDERS)}")
    if "proxy_mode" in settings and replaces_kube_proxy(settings["cni"]):
        raise LabFileError(f"settings.proxy_mode: the {settings['cni']} CNI replaces "
                           "kube-proxy and takes no proxy mode")
    if settings["cni"] not in CNIS:
        raise LabFileError(f"settings.cni: {settings['cni']!r} is not one of {', '.join(CNIS)}")
    for key in ("seed", "uids", "resource_version"):
        if not _is_int(settings[key]) or not 0 <= settings[key] < 2**63:
            raise LabFileError(f"settings.{key}: expected a whole number 0 or more")
    if not _is_int(settings["node_cidr_mask"]) or not 17 <= settings["node_cidr_mask"] <= 28:
        raise LabFileError("settings.node_cidr_mask: expected a prefix length from 17 to 28")
    cidr = settings.get("cluster_cidr", str(CLUSTER_CIDR))
    if not isinstance(cidr, str) or len(cidr) > 18:
        raise LabFileError("settings.cluster_cidr: expected a network such as 10.244.0.0/16")
    try:
        check_cluster_cidr(cidr, settings["node_cidr_mask"])
    except ClusterError as error:
        raise LabFileError(f"settings.cluster_cidr: {error}") from None
    _check_clock(settings["clock"], "settings.clock")
    _check_rng(settings["rng"], "settings.rng")
    bridges = settings["bridges"]
    if not isinstance(bridges, list) or len(bridges) > MAX_OBJECTS or not all(
            isinstance(name, str) and len(name) <= 253 for name in bridges):
        raise LabFileError("settings.bridges: expected a list of node names")


def _check_action(entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or sorted(entry) != ["clock", "line", "rng", "selected"]:
        raise LabFileError(f"{where}: expected a map of line, selected, clock and rng")
    line, selected = entry["line"], entry["selected"]
    if not isinstance(line, str) or len(line) > MAX_TEXT:
        raise LabFileError(f"{where}.line: expected a command line")
    if selected is not None and (not isinstance(selected, str) or len(selected) > MAX_TEXT):
        raise LabFileError(f"{where}.selected: expected a node or pod, or nothing")
    try:
        words = shlex.split(line)
    except ValueError:
        words = []
    if not replayed(words):
        raise LabFileError(f"{where}: {line!r} is not a command a lab replays ("
                           + ", ".join(replayed_names()) + ")")
    _check_clock(entry["clock"], f"{where}.clock")
    if entry["rng"] is not None:
        _check_rng(entry["rng"], f"{where}.rng")


def _packets(line: str) -> int:
    """How many packets a history line sends again: a traffic command its --count."""
    words = shlex.split(line)
    if words[:1] != ["traffic"]:
        return 1
    for index, word in enumerate(words):
        value = word.partition("=")[2] if word.startswith("--count=") else \
            words[index + 1] if word == "--count" and index + 1 < len(words) else None
        if value is not None:
            try:
                return whole(value, "--count")
            except NumberError:
                return 1  # the command itself refuses it when replayed
    return 100


def _check_replay_budget(history: list[dict]) -> None:
    """Opening a lab sends its packets again: a file may not ask for more than the budget."""
    total, fits = 0, None
    for index, entry in enumerate(history):
        total += _packets(entry["line"])
        if total > MAX_REPLAY_PACKETS and fits is None:
            fits = index
    if fits is not None:
        raise LabFileError(f"history: its {len(history)} commands would send {total} packets "
                           f"again, more than the {MAX_REPLAY_PACKETS} a lab file may replay "
                           f"when it opens (the first {fits} fit)")


def _check_lesson(lesson: Any) -> None:
    if lesson is None:
        return
    if not isinstance(lesson, dict) or sorted(lesson) != ["done", "id"]:
        raise LabFileError("lesson: expected a map of id and done, or nothing")
    if not isinstance(lesson["id"], str) or len(lesson["id"]) > 64:
        raise LabFileError("lesson.id: expected the id of a guided lab")
    done = lesson["done"]
    if not isinstance(done, list) or len(done) > 100 or not all(
            isinstance(task, str) and len(task) <= 64 for task in done):
        raise LabFileError("lesson.done: expected a list of task ids")


def _rng_state(words: list[int]) -> tuple:
    return (3, tuple(words), None)


def decode_objects(document: dict) -> list:
    """A checked document's API objects, every value checked; LabFileError otherwise."""
    try:
        return decode_tables(document["objects"])
    except DecodeError as error:
        raise LabFileError(str(error)) from None


def check_room(objects: list) -> None:
    """The pods the Deployments still want, against the lab's ceiling and the addresses the
    saved nodes have left (a Deployment's pods tolerate no taint), before a cluster is built
    to try."""
    pods = [obj for obj in objects if obj.kind == "Pod"]
    placed = Counter(p.spec.node_name for p in pods)
    owned = sum(1 for p in pods if p.metadata.controller_ref() is not None
                or OWNER_ANNOTATION in p.metadata.annotations)  # version 2: an annotation
    deployments = [d for d in objects if d.kind == "Deployment"]
    wanted = max(0, sum(d.replicas for d in deployments) - owned)
    try:
        check_pod_total(len(pods), wanted)
    except LimitError as error:
        raise LabFileError(f"objects: {error}") from None
    free = sum(max(0, IPv4Network(n.spec.pod_cidr).num_addresses - 3 - placed[n.name])
               for n in objects if n.kind == "Node" and n.spec.pod_cidr and not any(
                   t.effect in ("NoSchedule", "NoExecute") for t in n.spec.taints))
    if wanted > free:
        largest = max(deployments, key=lambda d: d.replicas)
        raise LabFileError(f"objects: the Deployments want {wanted} more pods (deployment "
                           f"{largest.key} {largest.replicas} in all) than the nodes have "
                           f"addresses for ({free})")


async def build_lab(document: dict, progress: Progress | None = None) -> Lab:
    """A new Lab from a checked document; LabFileError if its objects or history fail.
    `progress` hears how far it is (restore_cluster says how)."""
    objects = decode_objects(document)
    check_room(objects)
    settings = document["settings"]
    try:
        cluster = await restore_cluster(ClusterSettings(
            settings["cni"], settings["seed"], settings["node_cidr_mask"],
            list(settings["bridges"]), settings.get("proxy_mode", "iptables"),
            settings.get("cluster_cidr", str(CLUSTER_CIDR)), settings["clock"],
            settings.get("lb", "cloud")), objects,
            progress)
    except ClusterError as error:
        raise LabFileError(f"objects: {error}") from None
    lesson = document["lesson"]
    lab = Lab(cluster, LessonProgress(lesson["id"], list(lesson["done"])) if lesson else None,
              document["layout"])
    try:
        cluster.api.uid_counter = max(settings["uids"], cluster.api.uid_counter)
        cluster.api.resource_version = max(settings["resource_version"],
                                           cluster.api.resource_version)
        if progress is not None:
            progress("commands", 0, len(document["history"]))
        lab.skipped = await _replay_history(lab, document["history"])
        cluster.network.rng.setstate(_rng_state(settings["rng"]))
        cluster.network.clock = settings["clock"]
    except BaseException:
        await cluster.stop()
        raise
    return lab


async def _replay_history(lab: Lab, history: list[dict]) -> list[str]:
    """Run the journal again; a command whose pod or Service has since been deleted cannot,
    and is left out (what it taught conntrack is lost, nothing else). Returns those lines."""
    network, skipped = lab.cluster.network, []
    for entry in history:
        network.clock = entry["clock"]
        if entry["rng"] is not None:
            network.rng.setstate(_rng_state(entry["rng"]))
        try:
            await lab.run(entry["line"], entry["selected"])
        except (ShellError, ClusterError):
            skipped.append(entry["line"])
    return skipped


async def load_lab(path: str | os.PathLike, progress: Progress | None = None) -> Lab:
    """A new, started Lab from PATH; LabFileError naming the problem otherwise. Nothing the
    caller already has is touched: the lab is built aside and returned only when whole.
    With `progress`, the file is read in a thread and the build yields now and then."""
    remove_leftovers(path)  # of a save of it that was killed
    if progress is not None:
        progress("reading", 0, 0)
        document = await asyncio.to_thread(read_document, path)
    else:
        document = read_document(path)
    try:
        return await build_lab(document, progress)
    except LabFileError as error:
        raise LabFileError(f"{path}: {error}") from None


async def load_lab_bytes(data: bytes) -> Lab:
    return await build_lab(parse_document(data))
