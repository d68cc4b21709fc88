"""Flows printed as `hubble observe` prints them: the compact line of
hubble/pkg/printer/printer.go and the JSON of `-o json` (GetFlowsResponse, proto names)."""

from __future__ import annotations

import json
import time

from playground.cluster.flows.endpoints import RESERVED, Endpoint
from playground.cluster.flows.observe import (
    DROP_EVENT,
    MATCH_TYPES,
    POINTS,
    POLICY_VERDICT_EVENT,
    SOCK_EVENT,
    TRACE_EVENT,
    Flow,
)
from playground.timefmt import LAB_EPOCH

# gopacket's names of the ICMPv4 types the lab sends and answers with
ICMP_TYPES = {0: "EchoReply", 3: "DestinationUnreachable", 5: "Redirect", 8: "EchoRequest",
              11: "TimeExceeded"}
ICMP_UNREACH = {0: "Net", 1: "Host", 2: "Protocol", 3: "Port", 4: "FragmentationNeeded",
                9: "NetAdminProhibited", 10: "HostAdminProhibited", 13: "CommAdminProhibited"}
TCP_ORDER = ("SYN", "ACK", "RST", "FIN", "PSH", "URG", "ECE", "CWR", "NS")  # threefour order


def stamp(clock: float) -> str:
    """time.StampMilli: 'Jan _2 15:04:05.000'."""
    seconds = LAB_EPOCH + clock
    whole = int(seconds)
    millis = int(round((seconds - whole) * 1000)) % 1000
    return time.strftime("%b %e %H:%M:%S", time.gmtime(whole)) + f".{millis:03d}"


def rfc3339(clock: float) -> str:
    """A protobuf Timestamp in JSON: nanoseconds in 0, 3, 6 or 9 digits, Z."""
    seconds = LAB_EPOCH + clock
    whole = int(seconds)
    nanos = int(round((seconds - whole) * 1e9))
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if nanos:
        digits = f"{nanos:09d}"
        for width in (3, 6, 9):
            if int(digits[width:] or 0) == 0:
                text += "." + digits[:width]
                break
    return text + "Z"


def summary(flow: Flow) -> str:
    pkt = flow.packet
    if pkt.proto == "tcp":
        return "TCP Flags: " + ", ".join(f for f in TCP_ORDER if f in pkt.flag_set)
    if pkt.proto == "icmp":
        name = ICMP_TYPES.get(pkt.icmp_type, str(pkt.icmp_type))
        if pkt.icmp_type == 3:
            name += f"({ICMP_UNREACH.get(pkt.icmp_code, str(pkt.icmp_code))})"
        return f"ICMPv4 {name}"
    return pkt.proto.upper()


def _host(address: str, port: int, endpoint: Endpoint, service) -> str:
    """Printer.Hostname: the pod, else the Service, else the address; then :port."""
    host = address
    if endpoint.pod_name:
        host = f"{endpoint.namespace}/{endpoint.pod_name}"
    elif service is not None:
        host = f"{service[0]}/{service[1]}"
    return f"{host}:{port}" if port else host


def _identity(endpoint: Endpoint) -> str:
    name = RESERVED.get(endpoint.identity)
    return f"({name})" if name else f"(ID:{endpoint.identity})"


def compact(flow: Flow, node_name: bool = False) -> str:
    pkt = flow.packet
    ports = pkt.proto in ("tcp", "udp", "sctp")
    src = _host(str(pkt.src), pkt.sport if ports else 0, flow.source, flow.source_service)
    dst = _host(str(pkt.dst), pkt.dport if ports else 0, flow.destination,
                flow.destination_service)
    src_id, dst_id = _identity(flow.source), _identity(flow.destination)
    arrow = "->"
    if flow.is_reply is None:
        arrow = "<>"
    elif flow.is_reply:   # the printer flips a reply to read client <- server
        src, dst, src_id, dst_id, arrow = dst, src, dst_id, src_id, "<-"
    node = f" [{flow.node}]" if node_name else ""
    verdict = flow.verdict
    if flow.policy_verdict:   # the printer says ALLOWED or DENIED for a policy verdict
        verdict = "ALLOWED" if verdict == "FORWARDED" else "DENIED"
    return (f"{stamp(flow.time)}{node}: {src} {src_id} {arrow} {dst} {dst_id} {flow.kind} "
            f"{verdict} ({summary(flow)})")


def _l4(flow: Flow) -> dict:
    pkt = flow.packet
    if pkt.proto == "tcp":
        body = {"source_port": pkt.sport, "destination_port": pkt.dport}
        flags = {f: True for f in TCP_ORDER if f in pkt.flag_set}
        if flags:
            body["flags"] = flags
        return {"TCP": body}
    if pkt.proto in ("udp", "sctp"):
        return {pkt.proto.upper(): {"source_port": pkt.sport, "destination_port": pkt.dport}}
    body = {}
    if pkt.icmp_type:
        body["type"] = pkt.icmp_type
    if pkt.icmp_code:
        body["code"] = pkt.icmp_code
    return {"ICMPv4": body}


def flow_json(flow: Flow) -> dict:
    """The Flow message as protojson writes it (proto names, zero values left out)."""
    pkt = flow.packet
    data: dict = {"time": rfc3339(flow.time), "verdict": flow.verdict}
    if flow.drop is not None:
        data["drop_reason"] = flow.drop.code
    data["IP"] = {"source": str(pkt.src), "destination": str(pkt.dst), "ipVersion": "IPv4"}
    data["l4"] = _l4(flow)
    data["source"] = flow.source.to_json()
    data["destination"] = flow.destination.to_json()
    data["Type"] = "L3_L4"
    data["node_name"] = flow.node
    if flow.policy_verdict:
        event = {"type": POLICY_VERDICT_EVENT}
    elif flow.drop is not None:
        event = {"type": DROP_EVENT, "sub_type": flow.drop.code}
    elif flow.xlate:
        event = {"type": SOCK_EVENT}
    else:
        event = {"type": TRACE_EVENT, "sub_type": POINTS[flow.point]}
    data["event_type"] = {k: v for k, v in event.items() if v}
    for key, service in (("source_service", flow.source_service),
                         ("destination_service", flow.destination_service)):
        if service is not None:
            data[key] = {"name": service[1], "namespace": service[0]}
    if flow.direction:
        data["traffic_direction"] = flow.direction
    if flow.point:
        data["trace_observation_point"] = flow.point.upper().replace("-", "_")
    if flow.drop is not None:
        data["drop_reason_desc"] = flow.drop.name
    if flow.policy_verdict:
        data["policy_match_type"] = next(number for name, number in MATCH_TYPES.values()
                                         if name == flow.policy_match)
    if flow.is_reply is not None:
        data["is_reply"] = flow.is_reply
    if flow.xlate:
        data["sock_xlate_point"] = ("SOCK_XLATE_POINT_POST_DIRECTION_FWD"
                                    if flow.xlate.endswith("fwd")
                                    else "SOCK_XLATE_POINT_POST_DIRECTION_REV")
    data["Summary"] = summary(flow)
    return data


def json_line(flow: Flow) -> str:
    """One GetFlowsResponse per line, as `hubble observe -o json`."""
    return json.dumps({"flow": flow_json(flow), "node_name": flow.node,
                       "time": rfc3339(flow.time)}, separators=(",", ":"))
