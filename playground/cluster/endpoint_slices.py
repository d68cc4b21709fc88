"""EndpointSlice (discovery.k8s.io/v1) as a manifest or a lab file carries it: the API
server's rules for one (pkg/apis/discovery/validation), `kubectl get endpointslices`, and
the document `kubectl get -o yaml` prints."""

from __future__ import annotations

from ipaddress import IPv4Address

from playground.cluster import validation
from playground.cluster.service import SERVICE_NAME_LABEL, EndpointSlice
from playground.cluster.validation import FieldError

ADDRESS_TYPES = ("IPv4", "IPv6", "FQDN")
MAX_ENDPOINTS = 1000
MAX_PORTS = 20000


def endpoint_slice_errors(endpoint_slice: EndpointSlice, address_type: str = "IPv4",
                          addresses: list[int] | None = None) -> list[FieldError]:
    """`addresses` is how many each endpoint gave (the lab keeps the first, as kube-proxy
    uses only the first)."""
    meta = endpoint_slice.metadata
    errors = validation.meta_errors("EndpointSlice", meta.name, meta.namespace, meta.labels,
                                    meta.annotations)
    if address_type not in ADDRESS_TYPES:
        errors.append(FieldError("addressType", "Unsupported value", address_type,
                                 "supported values: " + ", ".join(f'"{t}"' for t in
                                                                  ADDRESS_TYPES)))
    if len(endpoint_slice.endpoints) > MAX_ENDPOINTS:
        errors.append(FieldError("endpoints", "Too many", len(endpoint_slice.endpoints),
                                 f"must have at most {MAX_ENDPOINTS} items"))
    for index, endpoint in enumerate(endpoint_slice.endpoints):
        here = f"endpoints[{index}]"
        given = addresses[index] if addresses is not None else 1
        if given == 0:
            errors.append(FieldError(f"{here}.addresses", "Required value",
                                     detail="must contain at least 1 address"))
            continue
        if given > 100:
            errors.append(FieldError(f"{here}.addresses", "Too many", given,
                                     "must have at most 100 items"))
        try:
            IPv4Address(endpoint.address)
        except ValueError:
            errors.append(FieldError(f"{here}.addresses[0]", "Invalid value", endpoint.address,
                                     "must be a valid IPv4 address"))
        if endpoint.node_name:
            errors += validation._each(f"{here}.nodeName", endpoint.node_name,
                                       validation.dns1123_subdomain(endpoint.node_name))
        if endpoint.hostname:
            errors += validation._each(f"{here}.hostname", endpoint.hostname,
                                       validation.dns1123_label(endpoint.hostname))
    if len(endpoint_slice.ports) > MAX_PORTS:
        errors.append(FieldError("ports", "Too many", len(endpoint_slice.ports),
                                 f"must have at most {MAX_PORTS} items"))
    names: set[str] = set()
    for index, port in enumerate(endpoint_slice.ports):
        here = f"ports[{index}]"
        name = port.name or ""
        if name:
            errors += validation._each(f"{here}.name", name, validation.dns1123_label(name))
        if name in names:
            errors.append(FieldError(f"{here}.name", "Duplicate value", name))
        names.add(name)
        errors += validation._protocol_errors(port.protocol, f"{here}.protocol",
                                              validation.SERVICE_PROTOCOLS)
        errors += validation._each(f"{here}.port", port.port, validation.port_number(port.port))
    return errors


def validate_endpoint_slice(endpoint_slice: EndpointSlice, address_type: str = "IPv4",
                            addresses: list[int] | None = None) -> None:
    validation.check("EndpointSlice", endpoint_slice.name,
                     endpoint_slice_errors(endpoint_slice, address_type, addresses))


def _listed(items: list[str]) -> str:
    """kubectl's listWithMoreString: three, then "+ N more..."; none: <unset>."""
    shown = ",".join(items[:3])
    if len(items) > 3:
        return f"{shown} + {len(items) - 3} more..."
    return shown or "<unset>"


def table_row(endpoint_slice: EndpointSlice) -> list[str]:
    """NAME, ADDRESSTYPE, PORTS, ENDPOINTS (the AGE column is the caller's)."""
    return [endpoint_slice.name, "IPv4", _listed([str(p.port) for p in endpoint_slice.ports]),
            _listed([e.address for e in endpoint_slice.endpoints])]


def document(endpoint_slice: EndpointSlice, meta: dict) -> dict:
    """The manifest of a hand-made slice, as `kubectl get -o yaml` gives it back."""
    endpoints = []
    for endpoint in endpoint_slice.endpoints:
        entry: dict = {"addresses": [endpoint.address], "conditions": {
            "ready": endpoint.ready, "serving": endpoint.serving,
            "terminating": endpoint.terminating}}
        for key, value in (("nodeName", endpoint.node_name), ("zone", endpoint.zone),
                           ("hostname", endpoint.hostname)):
            if value:
                entry[key] = value
        if endpoint.target:
            namespace, _, name = endpoint.target.partition("/")
            entry["targetRef"] = {"kind": "Pod", "namespace": namespace, "name": name}
        endpoints.append(entry)
    ports = [{**({"name": p.name} if p.name else {}), "protocol": p.protocol, "port": p.port}
             for p in endpoint_slice.ports]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta,
            "addressType": "IPv4", "endpoints": endpoints, "ports": ports}


def service_of(namespace: str, labels: dict[str, str]) -> str:
    """The Service a slice belongs to (its kubernetes.io/service-name label), NS/NAME; none
    when the label is missing (kube-proxy then ignores the slice)."""
    name = labels.get(SERVICE_NAME_LABEL)
    return f"{namespace}/{name}" if name else ""
