"""Traces as pcapng, read back by an independent reader (dpkt's block and packet parsers):
one interface per device, every hop a frame with its comment, headers and checksums right."""

from __future__ import annotations

import struct

import dpkt
import pytest

from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.net.capture import pcapng
from playground.timefmt import LAB_EPOCH


def blocks(data: bytes):
    """(interfaces by id, [(interface id, seconds, frame, comment)]) as dpkt parses them."""
    interfaces, packets, offset = [], [], 0
    assert struct.unpack("<I", data[:4])[0] == 0x0A0D0D0A
    while offset < len(data):
        kind, length = struct.unpack("<II", data[offset:offset + 8])
        block = data[offset:offset + length]
        if kind == 1:
            idb = dpkt.pcapng.InterfaceDescriptionBlockLE(block)
            assert idb.linktype == dpkt.pcap.DLT_EN10MB
            interfaces.append({o.code: o.data.decode() for o in idb.opts if o.code}[2])
        elif kind == 6:
            epb = dpkt.pcapng.EnhancedPacketBlockLE(block)
            comment = next(o.data.decode() for o in epb.opts if o.code == 1)
            seconds = ((epb.ts_high << 32) | epb.ts_low) / 1e6
            packets.append((epb.iface_id, seconds, epb.pkt_data, comment))
        offset += length
    return interfaces, packets


def valid_checksums(ip: dpkt.ip.IP) -> bool:
    """The IP and transport checksums as written equal those dpkt computes itself."""
    again = dpkt.ip.IP(bytes(ip))
    written = (again.sum, again.data.sum)
    again.sum = again.data.sum = 0
    computed = dpkt.ip.IP(bytes(again))
    return (computed.sum, computed.data.sum) == written and written[0] != 0


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


async def test_every_hop_is_a_frame_on_its_device_with_the_rewritten_addresses(lab):
    trace = send(lab, "pod/client", "svc/web")
    reply = lab.network.reply(trace)
    interfaces, packets = blocks(pcapng([trace, reply], LAB_EPOCH).bytes())
    hops = trace.hops + reply.hops
    assert len(packets) == len(hops)
    assert len(interfaces) == len(set(interfaces)), "one interface block per device"
    assert "pod/default/client:eth0" in interfaces and "node/kind-worker:cni0" in interfaces
    for (iface, seconds, frame, comment), hop in zip(packets, hops, strict=True):
        eth = dpkt.ethernet.Ethernet(frame)
        ip = eth.data
        shown = hop.packet_after
        assert interfaces[iface].startswith(hop.where + ":")
        assert seconds == pytest.approx(LAB_EPOCH + hop.time)
        assert f"hop {hop.index} {hop.where} {hop.event}: {hop.detail}" in comment
        assert (dpkt.utils.inet_to_str(ip.src), dpkt.utils.inet_to_str(ip.dst)) == (
            str(shown.src), str(shown.dst))
        assert (ip.data.sport, ip.data.dport, ip.ttl) == (shown.sport, shown.dport, shown.ttl)
        assert valid_checksums(ip), comment
        if hop.src_mac is not None and hop.event in ("xmit", "recv"):
            assert (mac(eth.src), mac(eth.dst)) == (hop.src_mac, hop.dst_mac)
    dnat = next(p for p, h in zip(packets, hops, strict=True) if h.event == "netfilter"
                and h.packet_before.dst != h.packet_after.dst)
    assert "DNAT" in dnat[3]
    first = dpkt.ethernet.Ethernet(packets[0][2]).data.data
    assert first.flags == dpkt.tcp.TH_SYN and first.opts[:2] == b"\x02\x04", "SYN with MSS"


async def test_a_vxlan_hop_carries_the_outer_headers_around_the_inner_frame():
    lab = await build_default_lab(cni="vxlan")
    try:
        trace = send(lab, "pod/client", "pod/web-1")
    finally:
        await lab.stop()
    interfaces, packets = blocks(pcapng([trace], LAB_EPOCH).bytes())
    outer = [(p, h) for p, h in zip(packets, trace.hops, strict=True)
             if h.packet_after.payload is not None and h.event != "encapsulate"]
    assert outer
    for (iface, _, frame, _), _hop in outer:
        ip = dpkt.ethernet.Ethernet(frame).data
        assert valid_checksums(ip)
        udp = ip.data
        assert udp.dport == 8472 and interfaces[iface].endswith(":eth0")
        flags, vni = struct.unpack("!II", udp.data[:8])
        assert flags == 0x08000000 and vni >> 8 == 1
        inner = dpkt.ethernet.Ethernet(udp.data[8:])
        assert dpkt.utils.inet_to_str(inner.data.dst) == "10.244.2.2"
        assert valid_checksums(inner.data)
        assert mac(inner.src) == lab.node_namespace("kind-worker").device("flannel.1").mac
    tunnel = next(p for p, h in zip(packets, trace.hops, strict=True)
                  if h.event == "encapsulate")
    assert interfaces[tunnel[0]] == "node/kind-worker:flannel.1"
    assert dpkt.ethernet.Ethernet(tunnel[2]).data.p == dpkt.ip.IP_PROTO_TCP, "the inner frame"


async def test_icmp_errors_quote_the_packet_they_answer(lab):
    trace = send(lab, "pod/client", "pod/web-1", proto="udp", port=9)
    interfaces, packets = blocks(pcapng([trace], LAB_EPOCH).bytes())
    errors = [dpkt.ethernet.Ethernet(p[2]).data for p in packets
              if dpkt.ethernet.Ethernet(p[2]).data.p == dpkt.ip.IP_PROTO_ICMP]
    assert errors, "port unreachable comes back"
    icmp = errors[-1].data
    assert (icmp.type, icmp.code) == (3, 3) and valid_checksums(errors[-1])
    quoted = dpkt.ip.IP(bytes(icmp.data)[4:])
    assert dpkt.utils.inet_to_str(quoted.dst) == "10.244.2.2" and quoted.data.dport == 9


def test_the_same_traces_give_the_same_bytes():
    import asyncio

    async def once() -> bytes:
        lab = await build_default_lab()
        try:
            return pcapng([send(lab, "pod/client", "svc/web")], LAB_EPOCH).bytes()
        finally:
            await lab.stop()
    assert asyncio.run(once()) == asyncio.run(once())
