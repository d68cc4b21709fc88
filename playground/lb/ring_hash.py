"""Envoy's RING_HASH load balancer (source/extensions/load_balancing_policies/ring_hash,
Envoy v1.33): every host gets `hashes` points on a ring, at the xxHash64 of
"ADDRESS:PORT_INDEX"; a request goes to the first point at or after its own hash (for a
source_ip hash policy the xxHash64 of the client's address), wrapping round to the first.
Only healthy hosts are on the ring, so a host going away moves only its share."""

from __future__ import annotations

import math
from bisect import bisect_left

MASK = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P4, P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
MIN_RING_SIZE = 1024   # RingHashLbConfig.minimum_ring_size's default


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & MASK


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * P2) & MASK, 31) * P1) & MASK


def _merge(acc: int, value: int) -> int:
    return ((acc ^ _round(0, value)) * P1 + P4) & MASK


def xxhash64(data: bytes, seed: int = 0) -> int:
    """XXH64, as HashUtil::xxHash64 calls it (seed 0)."""
    size, at = len(data), 0
    if size >= 32:
        v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK]
        while at + 32 <= size:
            for lane in range(4):
                v[lane] = _round(v[lane], int.from_bytes(data[at:at + 8], "little"))
                at += 8
        acc = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & MASK
        for lane in v:
            acc = _merge(acc, lane)
    else:
        acc = (seed + P5) & MASK
    acc = (acc + size) & MASK
    while at + 8 <= size:
        acc ^= _round(0, int.from_bytes(data[at:at + 8], "little"))
        acc = (_rotl(acc, 27) * P1 + P4) & MASK
        at += 8
    if at + 4 <= size:
        acc ^= (int.from_bytes(data[at:at + 4], "little") * P1) & MASK
        acc = (_rotl(acc, 23) * P2 + P3) & MASK
        at += 4
    while at < size:
        acc ^= (data[at] * P5) & MASK
        acc = (_rotl(acc, 11) * P1) & MASK
        at += 1
    acc ^= acc >> 33
    acc = (acc * P2) & MASK
    acc ^= acc >> 29
    acc = (acc * P3) & MASK
    return acc ^ (acc >> 32)


def ring(hosts: list[str]) -> list[tuple[int, str]]:
    """The ring of equally weighted hosts ("ADDRESS:PORT"): scaled so that each host gets a
    whole number of points and the ring holds at least MIN_RING_SIZE, sorted by hash."""
    if not hosts:
        return []
    share = 1 / len(hosts)
    scale = math.ceil(share * MIN_RING_SIZE) / share
    points, target, made = [], 0.0, 0
    for host in hosts:
        target += scale * share
        index = 0
        while made < target:
            points.append((xxhash64(f"{host}_{index}".encode()), host))
            index += 1
            made += 1
    return sorted(points)


def choose(points: list[tuple[int, str]], key: str) -> str | None:
    """The host for a request whose hash key is `key` (the source IP's text)."""
    if not points:
        return None
    at = bisect_left(points, (xxhash64(key.encode()), ""))
    return points[at % len(points)][1]
