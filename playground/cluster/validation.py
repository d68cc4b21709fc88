"""The API server's rules for names, labels, ports and per-kind fields, worded as it words
them (k8s.io/apimachinery/pkg/api/validate/content and util/validation/field).

Pure functions: each `*_errors` returns the broken rules as FieldErrors, empty when the
value passes; `invalid(kind, name, errors)` is the one line kubectl prints for them, e.g.
The Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label ...
Manifests, the command line, the forms, lab files and the CLI all come through here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address


class ValidationError(ValueError):
    """An object the API server would refuse; the message names the field and the rule."""


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str
    type: str  # as field.ErrorType prints it: Invalid value, Required value, Forbidden, ...
    value: object = None
    detail: str = ""

    def __str__(self) -> str:
        if self.type in ("Required value", "Forbidden", "Too long"):
            return f"{self.path}: {self.type}" + (f": {self.detail}" if self.detail else "")
        shown = f"{self.path}: {self.type}: {_shown(self.value)}"
        return f"{shown}: {self.detail}" if self.detail else shown


def _shown(value: object) -> str:
    """A value as the API server quotes it: strings in double quotes, numbers bare."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, list):  # as Go's %#v prints a []string
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return str(value)


def invalid(kind: str, name: str, errors: list[FieldError]) -> str:
    """The line `kubectl` prints for a refused object."""
    shown = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(map(str, errors)) + "]"
    return f"The {kind} {_shown(name)} is invalid: {shown}"


def check(kind: str, name: str, errors: list[FieldError]) -> None:
    """ValidationError with that line if any rule was broken."""
    if errors:
        raise ValidationError(invalid(kind, name, errors))


# the string rules (content/dns.go, content/kube.go, util/validation/validation.go)

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_KEY_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _KEY_NAME + ")?"
_MATCH = {fmt: re.compile(fmt) for fmt in (_LABEL, _SUBDOMAIN, _DNS1035, _KEY_NAME, _LABEL_VALUE)}

LABEL_MESSAGE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                 "or '-', and must start and end with an alphanumeric character")
SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                     "characters, '-' or '.', and must start and end with an alphanumeric "
                     "character")
DNS1035_MESSAGE = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                   "start with an alphabetic character, and end with an alphanumeric character")
KEY_MESSAGE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and "
               "end with an alphanumeric character")
VALUE_MESSAGE = ("a valid label must be an empty string or consist of alphanumeric characters, "
                 "'-', '_' or '.', and must start and end with an alphanumeric character")


def _matches(fmt: str, value: str) -> bool:
    return _MATCH[fmt].fullmatch(value) is not None


def regex_error(message: str, fmt: str, *examples: str) -> str:
    shown = " or ".join(f"'{e}'" for e in examples)
    return f"{message} (e.g. {shown}, regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_label(value: str) -> list[str]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _matches(_LABEL, value):
        errors.append("must not contain dots" if _matches(_SUBDOMAIN, value) else
                      regex_error(LABEL_MESSAGE, _LABEL, "my-name", "123-abc"))
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = [max_len_error(253)] if len(value) > 253 else []
    if not _matches(_SUBDOMAIN, value):
        errors.append(regex_error(SUBDOMAIN_MESSAGE, _SUBDOMAIN, "example.com"))
    return errors


def dns1035_label(value: str) -> list[str]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _matches(_DNS1035, value):
        errors.append(regex_error(DNS1035_MESSAGE, _DNS1035, "my-name", "abc-123"))
    return errors


def label_key(value: str) -> list[str]:
    """A qualified name: an optional DNS subdomain prefix and '/', then a name of 63."""
    parts = value.split("/")
    if len(parts) > 2:
        return ["a valid label key " + regex_error(KEY_MESSAGE, _KEY_NAME, "MyName", "my.name",
                                                   "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errors = []
    if len(parts) == 2:
        prefix = parts[0]
        errors += ["prefix part must be non-empty"] if not prefix else \
            ["prefix part " + m for m in dns1123_subdomain(prefix)]
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_error(63))
    if not _matches(_KEY_NAME, name):
        errors.append("name part " + regex_error(KEY_MESSAGE, _KEY_NAME, "MyName", "my.name",
                                                 "123-abc"))
    return errors


def label_value(value: str) -> list[str]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _matches(_LABEL_VALUE, value):
        errors.append(regex_error(VALUE_MESSAGE, _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errors


def port_name(value: str) -> list[str]:
    """IANA_SVC_NAME: at most 15 of [-a-z0-9], a letter among them, no '--', no '-' at an end."""
    errors = [max_len_error(15)] if len(value) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value[:1] == "-" or value[-1:] == "-":
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number(value: int) -> list[str]:
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


# names, per kind: what each kind's ValidateObjectMeta uses

NAME_RULES = {"Namespace": dns1123_label, "Service": dns1035_label, "Pod": dns1123_subdomain,
              "Deployment": dns1123_subdomain, "ReplicaSet": dns1123_subdomain,
              "DaemonSet": dns1123_subdomain, "StatefulSet": dns1123_subdomain,
              "Ingress": dns1123_subdomain, "NetworkPolicy": dns1123_subdomain,
              "Node": dns1123_subdomain, "EndpointSlice": dns1123_subdomain,
              "container": dns1123_label,
              # a custom resource's name is a DNS subdomain (apiextensions' default)
              "IPAddressPool": dns1123_subdomain, "L2Advertisement": dns1123_subdomain,
              "GatewayClass": dns1123_subdomain, "Gateway": dns1123_subdomain,
              "HTTPRoute": dns1123_subdomain, "ReferenceGrant": dns1123_subdomain,
              "ServiceAccount": dns1123_subdomain, "Secret": dns1123_subdomain}


def _each(path: str, value: object, messages: list[str]) -> list[FieldError]:
    return [FieldError(path, "Invalid value", value, m) for m in messages]


def name_errors(kind: str, name: str, path: str = "metadata.name") -> list[FieldError]:
    if not name:
        return [FieldError(path, "Required value", detail="name or generateName is required")]
    return _each(path, name, NAME_RULES[kind](name))


def namespace_errors(namespace: str, path: str = "metadata.namespace") -> list[FieldError]:
    if not namespace:
        return [FieldError(path, "Required value")]
    return _each(path, namespace, dns1123_label(namespace))


def labels_errors(labels: Mapping[str, str], path: str = "metadata.labels") -> list[FieldError]:
    errors = []
    for key, value in labels.items():
        errors += _label_errors(path, key, value)
    return errors


@functools.lru_cache(maxsize=4096)
def _label_errors(path: str, key: str, value: str) -> tuple[FieldError, ...]:
    """One label's errors, worked out once (a Deployment's pods share their labels)."""
    key_errors = label_key(key)
    return tuple(_each(path, key, key_errors) + _each(f"{path}[{key}]" if not key_errors
                                                      else path, value, label_value(value)))


def annotations_errors(annotations: Mapping[str, str],
                       path: str = "metadata.annotations") -> list[FieldError]:
    errors = []
    for key in annotations:
        errors += _each(path, key, label_key(key))
    total = sum(len(k) + len(v) for k, v in annotations.items())
    if total > 256 * 1024:
        errors.append(FieldError(path, "Too long", detail="must have at most 262144 bytes"))
    return errors


def selector_errors(selector: Mapping[str, str], path: str) -> list[FieldError]:
    """A label selector given as key=value pairs: the same rules as labels."""
    return labels_errors(selector, path)


def meta_errors(kind: str, name: str, namespace: str | None, labels: Mapping[str, str],
                annotations: Mapping[str, str] | None = None) -> list[FieldError]:
    """ObjectMeta: the name by the kind's rule, the namespace (None: cluster-scoped), labels."""
    errors = name_errors(kind, name)
    if namespace is not None:
        errors += namespace_errors(namespace)
    return errors + labels_errors(labels) + annotations_errors(annotations or {})


# containers

PROTOCOLS = ("SCTP", "TCP", "UDP")
MODELLED_PROTOCOLS = PROTOCOLS   # what a container port may be
SERVICE_PROTOCOLS = PROTOCOLS


def _protocol_errors(protocol: str, path: str,
                     supported: tuple[str, ...] = MODELLED_PROTOCOLS) -> list[FieldError]:
    if protocol in supported:
        return []
    shown = ", ".join(f'"{p}"' for p in supported)
    return [FieldError(path, "Unsupported value", protocol, f"supported values: {shown}")]


def container_errors(containers: Iterable, path: str = "spec.containers") -> list[FieldError]:
    """Each container: a DNS-1123 label name, once; an image; ports 1-65535, IANA names."""
    errors: list[FieldError] = []
    names: set[str] = set()
    host_ports: set[str] = set()
    items = list(containers)
    if not items:
        return [FieldError(path, "Required value")]
    for index, container in enumerate(items):
        here = f"{path}[{index}]"
        if not container.name:
            errors.append(FieldError(f"{here}.name", "Required value"))
        else:
            errors += _each(f"{here}.name", container.name, dns1123_label(container.name))
        if container.name in names:
            errors.append(FieldError(f"{here}.name", "Duplicate value", container.name))
        names.add(container.name)
        if not container.image or not container.image.strip():
            errors.append(FieldError(f"{here}.image", "Required value"))
        for number, port in enumerate(container.ports):
            where = f"{here}.ports[{number}]"
            errors += _each(f"{where}.containerPort", port.container_port,
                            port_number(port.container_port))
            if port.name is not None:
                errors += _each(f"{where}.name", port.name, port_name(port.name))
            errors += _protocol_errors(port.protocol, f"{where}.protocol")
            errors += _host_port_errors(port, where, host_ports)
    return errors


def _host_port_errors(port, where: str, taken: set[str]) -> list[FieldError]:
    """hostPort 1-65535 and hostIP an address (ValidateContainerPorts), and no protocol,
    hostIP and hostPort twice in the pod (AccumulateUniqueHostPorts)."""
    errors: list[FieldError] = []
    if port.host_port is not None:
        errors += _each(f"{where}.hostPort", port.host_port, port_number(port.host_port))
        claim = f"{port.protocol}/{port.host_ip}/{port.host_port}"
        if claim in taken:
            errors.append(FieldError(f"{where}.hostPort", "Duplicate value", claim))
        taken.add(claim)
    if port.host_ip:
        try:
            IPv4Address(port.host_ip)
        except ValueError:
            errors.append(FieldError(f"{where}.hostIP", "Invalid value", port.host_ip,
                                     "must be a valid IPv4 address (the lab has no IPv6)"))
    return errors


def host_network_errors(host_network: bool, containers: Iterable,
                        path: str = "spec.containers") -> list[FieldError]:
    """validateHostNetwork: a pod on the node's network listens on the node's ports, so
    each hostPort is its containerPort (defaulted to it when left out)."""
    if not host_network:
        return []
    return [FieldError(f"{path}[{index}].ports[{number}].hostPort", "Invalid value",
                       port.host_port, "must match `containerPort` when `hostNetwork` is true")
            for index, container in enumerate(containers)
            for number, port in enumerate(container.ports)
            if port.host_port != port.container_port]


def tolerations_errors(tolerations: Iterable, path: str = "spec.tolerations") -> list[FieldError]:
    errors = []
    for index, toleration in enumerate(tolerations):
        here = f"{path}[{index}]"
        if toleration.key:
            errors += _each(f"{here}.key", toleration.key, label_key(toleration.key))
        if toleration.operator not in ("Exists", "Equal"):
            errors.append(FieldError(f"{here}.operator", "Unsupported value",
                                     toleration.operator, 'supported values: "Equal", "Exists"'))
        if toleration.effect not in ("", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            errors.append(FieldError(f"{here}.effect", "Unsupported value", toleration.effect,
                                     'supported values: "NoExecute", "NoSchedule", '
                                     '"PreferNoSchedule"'))
    return errors


# Services

EXTERNAL_TYPES = ("NodePort", "LoadBalancer")


def policy_errors(type: str, external_traffic_policy: str | None,
                  external_ips: list[str] = ()) -> list[FieldError]:
    """externalTrafficPolicy, given at all, only on a Service reachable from outside (a
    ClusterIP Service with externalIPs is)."""
    if external_traffic_policy is None or type in EXTERNAL_TYPES or (
            type == "ClusterIP" and external_ips):
        return []
    return [FieldError("spec.externalTrafficPolicy", "Invalid value", external_traffic_policy,
                       "may only be set for externally-accessible services")]


def _kind_errors(type: str, ports: list, cluster_ip: str | None,
                 external_name: str) -> list[FieldError]:
    """ValidateService's switch on the type: headless only as ClusterIP, ExternalName
    with a DNS name and no cluster IP; ports needed unless headless or ExternalName."""
    headless = cluster_ip == "None"
    errors = []
    if not ports and not headless and type != "ExternalName":
        errors.append(FieldError("spec.ports", "Required value"))
    if headless and type in EXTERNAL_TYPES:
        errors.append(FieldError("spec.clusterIPs[0]", "Invalid value", cluster_ip,
                                 f"may not be set to 'None' for {type} services"))
    if type == "ExternalName":
        if cluster_ip:
            errors.append(FieldError("spec.clusterIPs", "Forbidden",
                                     detail="may not be set for ExternalName services"))
        name = external_name.removesuffix(".")   # a trailing dot: fully qualified
        if not name:
            errors.append(FieldError("spec.externalName", "Required value"))
        else:
            errors += _each("spec.externalName", name, dns1123_subdomain(name))
    return errors


_SPECIAL = ((IPv4Network("0.0.0.0/32"), "may not be unspecified (0.0.0.0)"),
            (IPv4Network("127.0.0.0/8"), "may not be in the loopback range (127.0.0.0/8, "
             "::1/128)"),
            (IPv4Network("169.254.0.0/16"), "may not be in the link-local range "
             "(169.254.0.0/16, fe80::/10)"),
            (IPv4Network("224.0.0.0/24"), "may not be in the link-local multicast range "
             "(224.0.0.0/24, ff02::/10)"))


def external_ip_errors(external_ips: list[str]) -> list[FieldError]:
    """spec.externalIPs: IP addresses, none of them special (ValidateNonSpecialIP)."""
    errors = []
    for index, text in enumerate(external_ips):
        path = f"spec.externalIPs[{index}]"
        try:
            address = IPv4Address(text)
        except ValueError:
            errors.append(FieldError(path, "Invalid value", text, "must be a valid IP "
                                     "address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
            continue
        errors += [FieldError(path, "Invalid value", text, message)
                   for network, message in _SPECIAL if address in network][:1]
    return errors


class GoValue:
    """A value the API server prints with Go's %#v (a struct, a nil slice), as it prints it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _not_supported(path: str, value: object, supported: Iterable[str]) -> list[FieldError]:
    if value == "":
        return [FieldError(path, "Required value")]
    shown = ", ".join(f'"{v}"' for v in sorted(supported))
    return [FieldError(path, "Unsupported value", value, f"supported values: {shown}")]


def _service_port(protocol: str, port: int) -> GoValue:
    """The key ValidateService reports a repeated (protocol, port) with."""
    return GoValue(f'core.ServicePort{{Name:"", Protocol:"{protocol}", AppProtocol:(*string)'
                   f'(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, '
                   'StrVal:""}, NodePort:0}')


IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
TRAFFIC_POLICIES = ("Cluster", "Local")


def service_spec_errors(spec, service_cidr: IPv4Network, types: Iterable[str],
                        external_policy_given: str | None) -> list[FieldError]:
    """ValidateService's rules for the fields of a Service spec the lab models, in its
    order, then the allocators' (cluster IP in the range). `external_policy_given` is None
    when the field was not given (a ClusterIP Service may not carry it at all)."""
    errors = _kind_errors(spec.type, spec.ports, spec.cluster_ip, spec.external_name)
    names: set[str] = set()
    for index, port in enumerate(spec.ports):
        here = f"spec.ports[{index}]"
        if len(spec.ports) > 1 and not port.name:
            errors.append(FieldError(f"{here}.name", "Required value"))
        elif port.name:
            errors += _each(f"{here}.name", port.name, dns1123_label(port.name))
            if port.name in names:
                errors.append(FieldError(f"{here}.name", "Duplicate value", port.name))
            names.add(port.name)
        errors += _each(f"{here}.port", port.port, port_number(port.port))
        errors += _protocol_errors(port.protocol, f"{here}.protocol", SERVICE_PROTOCOLS)
        target = port.target_port
        if isinstance(target, str):
            errors += _each(f"{here}.targetPort", target, port_name(target))
        elif isinstance(target, int):
            errors += _each(f"{here}.targetPort", target, port_number(target))
    if spec.session_affinity not in ("ClientIP", "None"):
        errors += _not_supported("spec.sessionAffinity", spec.session_affinity,
                                 ("ClientIP", "None"))
    address = None
    if spec.cluster_ip not in (None, "", "None"):
        try:
            address = IPv4Address(spec.cluster_ip)
        except ValueError:
            errors.append(FieldError("spec.clusterIPs[0]", "Invalid value", spec.cluster_ip,
                                     IP_MESSAGE))
    if spec.type not in types:
        errors += _not_supported("spec.type", spec.type, types)
    seen_node_ports: set[tuple[str, int]] = set()
    seen: set[tuple[str, int]] = set()
    for index, port in enumerate(spec.ports):
        here = f"spec.ports[{index}]"
        if port.node_port is not None and spec.type not in EXTERNAL_TYPES:
            errors.append(FieldError(f"{here}.nodePort", "Forbidden",
                                     detail=f"may not be used when `type` is '{spec.type}'"))
        elif port.node_port is not None and not 30000 <= port.node_port <= 32767:
            errors.append(FieldError(f"{here}.nodePort", "Invalid value", port.node_port,
                                     "provided port is not in the valid range. The range of "
                                     "valid ports is 30000-32767"))
        if port.node_port is not None:
            if (port.protocol, port.node_port) in seen_node_ports:
                errors.append(FieldError(f"{here}.nodePort", "Duplicate value", port.node_port))
            seen_node_ports.add((port.protocol, port.node_port))
        if (port.protocol, port.port) in seen:
            errors.append(FieldError(here, "Duplicate value",
                                     _service_port(port.protocol, port.port)))
        seen.add((port.protocol, port.port))
    if spec.load_balancer_source_ranges:
        # the API server's own path, capital L and all
        if spec.type != "LoadBalancer":
            errors.append(FieldError("spec.LoadBalancerSourceRanges", "Forbidden",
                                     detail="may only be used when `type` is 'LoadBalancer'"))
        for index, source_range in enumerate(spec.load_balancer_source_ranges):
            try:
                IPv4Network(source_range.strip())
            except ValueError:
                errors.append(FieldError(f"spec.LoadBalancerSourceRanges[{index}]",
                                         "Invalid value", source_range.strip(), CIDR_MESSAGE))
    errors += policy_errors(spec.type, external_policy_given, spec.external_ips)
    errors += external_ip_errors(spec.external_ips)
    if spec.type in EXTERNAL_TYPES and spec.external_traffic_policy not in TRAFFIC_POLICIES:
        errors += _not_supported("spec.externalTrafficPolicy", spec.external_traffic_policy,
                                 TRAFFIC_POLICIES)
    if spec.internal_traffic_policy not in TRAFFIC_POLICIES:
        errors += _not_supported("spec.internalTrafficPolicy", spec.internal_traffic_policy,
                                 TRAFFIC_POLICIES)
    if address is not None and (address not in service_cidr or address in (
            service_cidr.network_address, service_cidr.broadcast_address)):
        errors.append(FieldError("spec.clusterIPs", "Invalid value", [spec.cluster_ip],
                                 f"failed to allocate IP {spec.cluster_ip}: provided IP is not "
                                 f"in the valid range. The range of valid IPs is "
                                 f"{service_cidr}"))
    return errors


def backend_errors(service: str, port: int | str, path: str) -> list[FieldError]:
    """An Ingress backend: a Service's name, and its port by number or by name."""
    errors = _each(f"{path}.service.name", service, dns1035_label(service)) if service else \
        [FieldError(f"{path}.service.name", "Required value")]
    if isinstance(port, int):
        errors += _each(f"{path}.service.port.number", port, port_number(port))
    else:
        errors += _each(f"{path}.service.port.name", port, port_name(port))
    return errors


# Ingresses (pkg/apis/networking/validation)

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
WILDCARD_MESSAGE = ("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                    "subdomain, which must consist of lower case alphanumeric characters, '-' or "
                    "'.' and end with an alphanumeric character")
_WILDCARD = r"\*\." + _SUBDOMAIN
_WILDCARD_MATCH = re.compile(_WILDCARD)


def host_errors(host: str) -> list[str]:
    """An Ingress rule's host: a DNS name, not an address; `*.` only as its first label."""
    try:
        ip_address(host)
        return ["must be a DNS name, not an IP address"]
    except ValueError:
        pass
    if "*" not in host:
        return dns1123_subdomain(host)
    errors = [max_len_error(253)] if len(host) > 253 else []
    if _WILDCARD_MATCH.fullmatch(host) is None:
        errors.append(regex_error(WILDCARD_MESSAGE, _WILDCARD, "*.example.com"))
    return errors


def ingress_spec_errors(rules: list, default_backend) -> list[FieldError]:
    """ValidateIngressSpec's rules for the fields the lab models, in its order."""
    errors: list[FieldError] = []
    if not rules and default_backend is None:
        errors.append(FieldError("spec", "Invalid value", GoValue("[]networking.IngressRule(nil)"),
                                 "either `defaultBackend` or `rules` must be specified"))
    if default_backend is not None:
        errors += backend_errors(default_backend.service, default_backend.port,
                                 "spec.defaultBackend")
    for index, rule in enumerate(rules):
        here = f"spec.rules[{index}]"
        if rule.host:
            errors += _each(f"{here}.host", rule.host, host_errors(rule.host))
        for number, path in enumerate(rule.paths):
            where = f"{here}.http.paths[{number}]"
            if path.path_type is None:   # required in networking.k8s.io/v1
                errors.append(FieldError(f"{where}.pathType", "Required value",
                                         detail="pathType must be specified"))
                continue
            if path.path_type not in PATH_TYPES:
                errors += _not_supported(f"{where}.pathType", path.path_type, PATH_TYPES)
            elif (path.path_type != "ImplementationSpecific" or path.path) and \
                    not path.path.startswith("/"):
                errors.append(FieldError(f"{where}.path", "Invalid value", path.path,
                                         "must be an absolute path"))
            errors += backend_errors(path.backend.service, path.backend.port, f"{where}.backend")
    return errors


# apiVersion and kind

def type_errors(api_version: object, kind: object, supported: Mapping[str, str]) -> str | None:
    """What kubectl says of a document whose apiVersion and kind do not name a type of
    `supported` (kind: its apiVersion, from the table of kinds); None when they do."""
    if not isinstance(kind, str) or not kind:
        return "Object 'Kind' is missing"
    if not isinstance(api_version, str) or not api_version:
        return "Object 'apiVersion' is missing"
    wanted = supported.get(kind)
    if wanted is None:
        return (f'no matches for kind "{kind}" in version "{api_version}" (supported here: '
                f"{', '.join(supported)})")
    if api_version != wanted:
        return f'no matches for kind "{kind}" in version "{api_version}" (it is {wanted})'
    return None
