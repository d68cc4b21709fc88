"""pcapng files as Wireshark reads them (the IETF draft "PCAP Now Generic Capture File
Format", draft-ietf-opsawg-pcapng): one Section Header Block, an Interface Description
Block per interface, an Enhanced Packet Block per packet with its comment. Little-endian,
microsecond timestamps (if_tsresol's default), written whole in memory so the same packets
give the same bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END, OPT_COMMENT = 0, 1
SHB_USERAPPL = 4
IF_NAME, IF_DESCRIPTION = 2, 3
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144   # what tcpdump and Wireshark write: no frame here comes near it


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _options(options: list[tuple[int, str]]) -> bytes:
    if not options:
        return b""
    out = b""
    for code, text in options:
        value = text.encode()
        out += struct.pack("<HH", code, len(value)) + _pad(value)
    return out + struct.pack("<HH", OPT_END, 0)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


@dataclass
class PcapngWriter:
    """Interfaces are added as they are first named; packets in the order given."""

    application: str
    interfaces: dict[str, int] = field(default_factory=dict)
    blocks: list[bytes] = field(default_factory=list)

    def interface(self, name: str, description: str = "") -> int:
        """The interface's id, its Interface Description Block written the first time."""
        if name not in self.interfaces:
            self.interfaces[name] = len(self.interfaces)
            options = [(IF_NAME, name)] + ([(IF_DESCRIPTION, description)] if description
                                           else [])
            self.blocks.append(_block(IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, SNAPLEN)
                                      + _options(options)))
        return self.interfaces[name]

    def packet(self, interface: int, seconds: float, frame: bytes, comment: str = "") -> None:
        micros = round(seconds * 1_000_000)
        body = struct.pack("<IIIII", interface, micros >> 32, micros & 0xFFFFFFFF, len(frame),
                           len(frame)) + _pad(frame)
        self.blocks.append(_block(EPB, body + _options([(OPT_COMMENT, comment)] if comment
                                                        else [])))

    def bytes(self) -> bytes:
        header = struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + _options(
            [(SHB_USERAPPL, self.application)])
        return _block(SHB, header) + b"".join(self.blocks)
