"""CoreDNS's `kubernetes` plugin for the cluster domain, read from the lab's API objects.

Followed: coredns/coredns plugin/kubernetes (kubernetes.go Records/findServices/findPods,
parse.go parseRequest, reverse.go serviceRecordForIP, handler.go ServeDNS) and
plugin/backend_lookup.go (A, SRV, PTR, BackendError), at v1.11.1, the image kind runs.
As kubeadm's Corefile has it: `kubernetes cluster.local in-addr.arpa ip6.arpa { pods
insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address

import dns.exception
import dns.name
import dns.rdataclass
import dns.reversename
import dns.rrset
from dns.rcode import NOERROR, NXDOMAIN
from dns.rdatatype import AAAA, CNAME, NS, PTR, SOA, SRV, A

from playground.cluster.service import HEADLESS

ZONE = dns.name.from_text("cluster.local.")
REVERSE_ZONES = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))
TTL = 30


class NameError_(Exception):
    """errNoItems, errNsNotExposed, errInvalidRequest: all answered NXDOMAIN."""


@dataclass
class Record:
    """msg.Service: where a name points (an address or a name) and, for SRV, a port."""

    host: str
    key: str  # the owner name the record answers for (SRV targets, endpoint names)
    port: int = 0


@dataclass
class Lookup:
    """What the plugin answers; `fall` passes the question to the next plugin (forward)."""

    rcode: int = NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)
    fall: bool = False
    external: list[str] = field(default_factory=list)  # CNAME targets to look up upstream


def zone_of(qname: dns.name.Name, zone: dns.name.Name = ZONE) -> dns.name.Name | None:
    for found in (zone, *REVERSE_ZONES):
        if qname.is_subdomain(found):
            return found
    return None


@dataclass
class Request:
    """parseRequest: _port._protocol.service.namespace.svc, endpoint.service.namespace.svc."""

    pod_or_svc: str = ""
    namespace: str = ""
    service: str = ""
    endpoint: str = ""
    port: str = ""
    protocol: str = ""


def parse_request(qname: dns.name.Name, zone: dns.name.Name = ZONE) -> Request:
    labels = [label.decode().lower() for label in qname.relativize(zone).labels]
    request = Request()
    if not labels or labels == ["@"] or labels in (["svc"], ["pod"]):
        return request
    labels.reverse()
    request.pod_or_svc = labels[0]
    if request.pod_or_svc not in ("svc", "pod"):
        raise NameError_("invalid request")
    rest = labels[1:]
    for part in ("namespace", "service"):
        if not rest:
            return request
        setattr(request, part, rest.pop(0))
    if len(rest) == 1:
        request.endpoint = rest[0]
    elif len(rest) == 2:
        request.protocol, request.port = (label.removeprefix("_") for label in rest)
    elif rest:
        raise NameError_("too long")
    return request


def endpoint_hostname(endpoint) -> str:
    """The endpoint's hostname if it has one, else its address with dashes."""
    return endpoint.hostname or endpoint.address.replace(".", "-").replace(":", "-")


def _ready_endpoints(api, service) -> list:
    """What CoreDNS's EndpointSliceToEndpoints keeps: addresses not marked not-ready."""
    found = []
    for slice_ in api.list("EndpointSlice", service.metadata.namespace):
        if slice_.service == service.key:
            found.extend((slice_, ep) for ep in slice_.endpoints if ep.ready)
    return found


def _match(wanted: str, have: str | None) -> bool:
    return wanted == "" or wanted.lower() == (have or "").lower()


class Kubernetes:
    """The plugin over one lab: `has_namespace` and `api` are the cluster's."""

    def __init__(self, api, has_namespace, serial) -> None:
        self.api = api
        self.has_namespace = has_namespace
        self.serial = serial
        self.zone, self.ttl = ZONE, TTL  # the Corefile's `kubernetes ZONE` and `ttl`

    # Records and its finders

    def records(self, qname: dns.name.Name) -> list[Record]:
        request = parse_request(qname, self.zone)
        if request.pod_or_svc == "":
            return []
        if request.namespace and not self.has_namespace(request.namespace):
            raise NameError_("namespace not exposed")
        if request.pod_or_svc == "pod":
            return self._pods(request, qname)
        return self._services(request)

    def _pods(self, request: Request, qname: dns.name.Name) -> list[Record]:
        if not request.service:
            return []
        if request.service.count("-") != 3 or "--" in request.service:
            raise NameError_("not an address")
        try:  # `pods insecure`: the address in the name is answered as it is
            address = str(IPv4Address(request.service.replace("-", ".")))
        except ValueError:
            raise NameError_("not an address") from None
        return [Record(address, qname.to_text())]

    def _services(self, request: Request) -> list[Record]:
        if not request.service:
            return []
        service = self.api.peek("Service", request.namespace, request.service)
        if service is None:
            raise NameError_("no such service")
        base = f"{service.metadata.name}.{service.metadata.namespace}.svc.{self.zone}"
        spec = service.spec
        if spec.type == "ExternalName":
            if request.endpoint:
                raise NameError_("ExternalName has no endpoints")
            return [Record(spec.external_name, base)]
        found: list[Record] = []
        if spec.cluster_ip == HEADLESS or request.endpoint:
            for slice_, endpoint in _ready_endpoints(self.api, service):
                host = endpoint_hostname(endpoint)
                if request.endpoint and request.endpoint != host.lower():
                    continue
                for port in slice_.ports:
                    if _match(request.port, port.name) and _match(request.protocol,
                                                                  port.protocol):
                        found.append(Record(endpoint.address, f"{host}.{base}", port.port))
        else:
            for port in spec.ports:
                if _match(request.port, port.name) and _match(request.protocol, port.protocol):
                    found.extend([Record(spec.cluster_ip, base, port.port)]
                                 if spec.cluster_ip else [])
        if not found:
            raise NameError_("no records")
        return found

    def reverse(self, qname: dns.name.Name) -> list[Record]:
        """serviceRecordForIP: a cluster IP names its Service, an endpoint's address its
        endpoint name under the Service."""
        try:
            address = dns.reversename.to_address(qname)
        except (dns.exception.SyntaxError, ValueError):
            raise NameError_("not a reverse name") from None
        for service in self.api.indexed("Service", "cluster_ip", address):
            name = f"{service.metadata.name}.{service.metadata.namespace}.svc.{self.zone}"
            return [Record(name, qname.to_text())]
        found = []
        for slice_ in self.api.list("EndpointSlice"):
            for endpoint in slice_.endpoints:
                if endpoint.ready and endpoint.address == address:
                    namespace, name = slice_.service.split("/", 1)
                    found.append(Record(f"{endpoint_hostname(endpoint)}.{name}.{namespace}"
                                        f".svc.{self.zone}", qname.to_text()))
        if not found:
            raise NameError_("no service or endpoint has the address")
        return found

    # ServeDNS

    def serve(self, qname: dns.name.Name, qtype: int) -> Lookup:
        zone = zone_of(qname, self.zone)
        try:
            if zone in REVERSE_ZONES:
                if qtype != PTR:
                    return Lookup(fall=True)
                return self._answer(qname, qtype, self.reverse(qname))
            if qtype in (SOA, NS) and qname == self.zone:
                return Lookup(answer=[self._soa() if qtype == SOA else self._ns()])
            records = self.records(qname)
        except NameError_:
            if zone in REVERSE_ZONES:  # fallthrough in-addr.arpa ip6.arpa
                return Lookup(fall=True)
            return Lookup(NXDOMAIN, authority=[self._soa()])
        return self._answer(qname, qtype, records)

    def _answer(self, qname: dns.name.Name, qtype: int, records: list[Record]) -> Lookup:
        lookup = Lookup()
        if qtype in (A, CNAME, AAAA):
            self._addresses(qname, qtype, records, lookup)
        elif qtype == SRV:
            self._srv(qname, records, lookup)
        elif qtype == PTR:
            names = [r.host for r in records if not _is_address(r.host)]
            if names:
                lookup.answer.append(_rrset(qname, PTR, names, self.ttl))
        if not lookup.answer and not lookup.external:
            lookup.authority.append(self._soa())
        return lookup

    def _addresses(self, qname, qtype, records: list[Record], lookup: Lookup) -> None:
        """backend_lookup.A/AAAA: addresses once each; a name is a CNAME, followed."""
        addresses, seen = [], set()
        for record in records:
            if _is_address(record.host):
                if qtype == A and record.host not in seen:
                    seen.add(record.host)
                    addresses.append(record.host)
                continue
            target = dns.name.from_text(record.host)
            lookup.answer.append(_rrset(qname, CNAME, [target.to_text()], self.ttl))
            if qtype == CNAME:
                continue
            if target.is_subdomain(self.zone):
                try:
                    self._addresses(target, qtype, self.records(target), lookup)
                except NameError_:
                    pass
            else:
                lookup.external.append(target.to_text())
        if addresses:
            lookup.answer.append(_rrset(qname, A, addresses, self.ttl))

    def _srv(self, qname, records: list[Record], lookup: Lookup) -> None:
        """backend_lookup.SRV: priority 0, the weight 100 shared, the target's address as
        extra; a name (ExternalName) is the target itself."""
        weight = max(1, 100 // len(records))
        rdatas, extra, seen = [], {}, set()
        for record in records:
            target = record.key if _is_address(record.host) else record.host
            target = target if target.endswith(".") else target + "."
            if (target, record.port) in seen:
                continue
            seen.add((target, record.port))
            rdatas.append(f"0 {weight} {record.port} {target}")
            if _is_address(record.host):
                extra.setdefault(target, record.host)
        lookup.answer.append(_rrset(qname, SRV, rdatas, self.ttl))
        lookup.additional.extend(_rrset(dns.name.from_text(t), A, [ip], self.ttl)
                                 for t, ip in extra.items())

    def _soa(self) -> dns.rrset.RRset:
        zone = self.zone
        return _rrset(zone, SOA, [f"ns.dns.{zone} hostmaster.{zone} {self.serial()} "
                                  f"7200 1800 86400 {self.ttl}"], self.ttl)

    def _ns(self) -> dns.rrset.RRset:
        return _rrset(self.zone, NS, [f"ns.dns.{self.zone}"], self.ttl)


def _is_address(host: str) -> bool:
    try:
        IPv4Address(host)
    except ValueError:
        return False
    return True


def _rrset(name, rdtype: int, values: list[str], ttl: int = TTL) -> dns.rrset.RRset:
    if isinstance(name, str):
        name = dns.name.from_text(name)
    return dns.rrset.from_text_list(name, ttl, dns.rdataclass.IN, rdtype, values)
