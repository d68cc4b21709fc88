"""A model packet as the bytes on the wire: an Ethernet frame around the IPv4 header, the
TCP, UDP or ICMP header (checksums computed as RFC 791, 793, 768 and 792 define them) and,
for a VXLAN packet, the VXLAN header and the inner frame (RFC 7348).

The model keeps headers, not data: what a packet's IP length holds beyond its headers is
zeros, TCP sequence numbers are 0, and a SYN's spare header room is an MSS option.
"""

from __future__ import annotations

import struct

from playground.net.packet import (
    FRAG_NEEDED,
    ICMP_DEST_UNREACH,
    ICMP_ECHO_REPLY,
    ICMP_ECHO_REQUEST,
    ICMP_REDIRECT,
    PROTO_NUMBERS,
    Packet,
)

ETHERTYPE_IPV4 = 0x0800
IP_HEADER = 20
TCP_HEADER = 20
UDP_HEADER = 8
ICMP_HEADER = 8
VXLAN_HEADER = 8
ETHERNET_HEADER = 14
TCP_FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20}
TCP_WINDOW = 64240    # what Linux offers in a SYN on a 1500-byte link
MSS = 1460
ICMP_QUOTE = 576      # an ICMP error quotes the packet up to this IP length (RFC 1812)
NO_MAC = "00:00:00:00:00:00"


def checksum(data: bytes) -> int:
    """The Internet checksum: the ones' complement of the ones' complement sum of 16-bit
    words (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(mac: str | None) -> bytes:
    return bytes.fromhex((mac or NO_MAC).replace(":", ""))


def ethernet(dst_mac: str | None, src_mac: str | None, payload: bytes) -> bytes:
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ETHERTYPE_IPV4) + payload


def ipv4(packet: Packet, inner_macs: tuple[str | None, str | None] = (None, None)) -> bytes:
    """The packet from its IP header on; `inner_macs` (dst, src) frame a VXLAN payload."""
    proto = PROTO_NUMBERS[packet.proto]
    body = _transport(packet, inner_macs)
    total = IP_HEADER + len(body)
    flags = 0x4000 if packet.df else 0
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, flags, packet.ttl, proto, 0,
                         packet.src.packed, packet.dst.packed)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + body


def _room(packet: Packet, headers: int) -> int:
    """How many bytes past the headers the packet's IP length leaves."""
    return max(0, packet.length - IP_HEADER - headers)


def _pseudo(packet: Packet, length: int) -> bytes:
    return packet.src.packed + packet.dst.packed + struct.pack(
        "!BBH", 0, PROTO_NUMBERS[packet.proto], length)


def _transport(packet: Packet, inner_macs) -> bytes:
    if packet.proto == "tcp":
        return _tcp(packet)
    if packet.proto == "udp":
        return _udp(packet, inner_macs)
    return _icmp(packet)


def _tcp(packet: Packet) -> bytes:
    room = _room(packet, TCP_HEADER)
    options = b""
    if "SYN" in packet.flag_set and room >= 4 and room % 4 == 0 and room <= 40:
        options = struct.pack("!BBH", 2, 4, MSS) + b"\0" * (room - 4)   # MSS, then EOL
        room = 0
    flags = sum(TCP_FLAG_BITS[f] for f in packet.flag_set if f in TCP_FLAG_BITS)
    offset = (TCP_HEADER + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", packet.sport, packet.dport, 0, 0, offset << 4, flags,
                          TCP_WINDOW, 0, 0) + options + b"\0" * room
    value = checksum(_pseudo(packet, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", value) + segment[18:]


def _udp(packet: Packet, inner_macs) -> bytes:
    if packet.payload is not None:   # VXLAN: flags with the I bit, the VNI, the inner frame
        inner = ethernet(inner_macs[0], inner_macs[1], ipv4(packet.payload))
        data = struct.pack("!II", 0x08000000, (packet.vni or 0) << 8) + inner
    else:
        data = b"\0" * _room(packet, UDP_HEADER)
    datagram = struct.pack("!HHHH", packet.sport, packet.dport, UDP_HEADER + len(data), 0) + data
    value = checksum(_pseudo(packet, len(datagram)) + datagram) or 0xFFFF   # 0 means "none"
    return datagram[:6] + struct.pack("!H", value) + datagram[8:]


def _icmp(packet: Packet) -> bytes:
    kind, code = packet.icmp_type or 0, packet.icmp_code
    if kind in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY):
        rest = struct.pack("!HH", packet.icmp_id, 0)
        data = b"\0" * _room(packet, ICMP_HEADER)
    else:
        if kind == ICMP_REDIRECT and packet.gateway is not None:
            rest = packet.gateway.packed
        elif (kind, code) == (ICMP_DEST_UNREACH, FRAG_NEEDED):
            rest = struct.pack("!HH", 0, packet.mtu)
        else:
            rest = b"\0" * 4
        quoted = ipv4(packet.inner) if packet.inner is not None else b""
        data = quoted[:ICMP_QUOTE - IP_HEADER - ICMP_HEADER]
    message = struct.pack("!BBH", kind, code, 0) + rest + data
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]
