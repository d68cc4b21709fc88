"""What the API server refuses of Gateway API objects: the CRDs' OpenAPI markers (patterns,
enums, bounds, list sizes) and their CEL rules, as gateway-api v1.5.1's standard channel
declares them; each error names the field."""

from __future__ import annotations

import re

from playground.cluster import validation
from playground.cluster.gateway.objects import Gateway, GatewayClass, HTTPRoute, ReferenceGrant
from playground.cluster.validation import FieldError

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
HOSTNAME = rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$"
PRECISE_HOSTNAME = rf"^{_LABEL}(\.{_LABEL})*$"
SECTION_NAME = PRECISE_HOSTNAME
CONTROLLER = rf"^{_LABEL}(\.{_LABEL})*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$"
PROTOCOL = rf"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|{_LABEL}(\.{_LABEL})*\/[A-Za-z0-9]+$"
KIND = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$"
PATH_CHARS = r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$"
PATH_TYPES = ("Exact", "PathPrefix", "RegularExpression")
VALUE_TYPES = ("Exact", "RegularExpression")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
FILTERS = ("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror",
           "RequestRedirect", "URLRewrite", "ExtensionRef", "CORS")
MODELLED_FILTERS = ("RequestHeaderModifier", "RequestRedirect", "URLRewrite")
FROM = ("All", "Selector", "Same")
MODIFIERS = ("ReplaceFullPath", "ReplacePrefixMatch")
STATUS_CODES = (301, 302, 303, 307, 308)


def _pattern(path: str, value: str, pattern: str) -> list[FieldError]:
    if re.match(pattern, value):
        return []
    return [FieldError(path, "Invalid value", value, f"{path} in body should match "
                                                      f"'{pattern}'")]


def _length(path: str, value: str, low: int, high: int) -> list[FieldError]:
    if len(value) < low:
        return [FieldError(path, "Invalid value", value, f"{path} in body should be at least "
                                                          f"{low} chars long")]
    if len(value) > high:
        return [FieldError(path, "Too long", detail=f"may not be more than {high} bytes")]
    return []


def _between(path: str, value: int, low: int, high: int) -> list[FieldError]:
    if value < low:
        return [FieldError(path, "Invalid value", value, f"{path} in body should be greater "
                                                          f"than or equal to {low}")]
    if value > high:
        return [FieldError(path, "Invalid value", value, f"{path} in body should be less than "
                                                          f"or equal to {high}")]
    return []


def _enum(path: str, value, allowed: tuple) -> list[FieldError]:
    if value in allowed:
        return []
    shown = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in allowed)
    return [FieldError(path, "Unsupported value", value, f"supported values: {shown}")]


def _most(path: str, items: list, high: int) -> list[FieldError]:
    if len(items) <= high:
        return []
    return [FieldError(path, "Too many", len(items), f"must have at most {high} items")]


def _rule(path: str, shape: str, message: str) -> FieldError:
    """A CEL rule broken: the API server shows the value's type, then the rule's message."""
    return FieldError(path, "Invalid value", shape, message)


def _meta(obj, namespaced: bool = True) -> list[FieldError]:
    meta = obj.metadata
    return validation.meta_errors(obj.kind, obj.name, meta.namespace if namespaced else None,
                                  meta.labels, meta.annotations)


def gateway_class_errors(gc: GatewayClass) -> list[FieldError]:
    errors = _meta(gc, namespaced=False)
    if not gc.controller_name:
        return errors + [FieldError("spec.controllerName", "Required value")]
    return errors + _length("spec.controllerName", gc.controller_name, 1, 253) + \
        _pattern("spec.controllerName", gc.controller_name, CONTROLLER)


def gateway_errors(gw: Gateway) -> list[FieldError]:
    errors = _meta(gw)
    if not gw.gateway_class_name:
        errors.append(FieldError("spec.gatewayClassName", "Required value"))
    if not gw.listeners:
        return errors + [FieldError("spec.listeners", "Invalid value", 0,
                                    "spec.listeners in body should have at least 1 items")]
    errors += _most("spec.listeners", gw.listeners, 64)
    for index, listener in enumerate(gw.listeners):
        at = f"spec.listeners[{index}]"
        errors += _pattern(f"{at}.name", listener.name, SECTION_NAME)
        errors += _between(f"{at}.port", listener.port, 1, 65535)
        errors += _length(f"{at}.protocol", listener.protocol, 1, 255) or \
            _pattern(f"{at}.protocol", listener.protocol, PROTOCOL)
        if listener.hostname is not None:
            errors += _pattern(f"{at}.hostname", listener.hostname, HOSTNAME)
        errors += _enum(f"{at}.allowedRoutes.namespaces.from", listener.namespaces_from, FROM)
        errors += _most(f"{at}.allowedRoutes.kinds", listener.kinds, 8)
        for k, kind in enumerate(listener.kinds):
            errors += _pattern(f"{at}.allowedRoutes.kinds[{k}].kind", kind, KIND)
    listeners = gw.listeners
    if any(lst.protocol in ("TCP", "UDP") and lst.hostname for lst in listeners):
        errors.append(_rule("spec.listeners", "array",
                            "hostname must not be specified for protocols ['TCP', 'UDP']"))
    if any(lst.protocol in ("HTTP", "TCP", "UDP") and lst.tls_mode for lst in listeners):
        errors.append(_rule("spec.listeners", "array",
                            "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"))
    if any(lst.protocol in ("HTTPS", "TLS") and not lst.tls_mode for lst in listeners):
        errors.append(_rule("spec.listeners", "array",
                            "tls mode must be set for protocols ['HTTPS', 'TLS']"))
    for index, lst in enumerate(listeners):
        at = f"spec.listeners[{index}].tls"
        if lst.tls_mode is not None:
            errors += _enum(f"{at}.mode", lst.tls_mode, ("Terminate", "Passthrough"))
            errors += _most(f"{at}.certificateRefs", lst.certificate_refs, 64)
        if lst.tls_mode == "Terminate" and not lst.certificate_refs:
            errors.append(_rule(at, "object", "certificateRefs or options must be specified "
                                              "when mode is Terminate"))
    names = [lst.name for lst in listeners]
    if len(set(names)) != len(names):
        errors.append(_rule("spec.listeners", "array",
                            "Listener name must be unique within the Gateway"))
    combos = [(lst.port, lst.protocol, lst.hostname) for lst in listeners]
    if len(set(combos)) != len(combos):
        errors.append(_rule("spec.listeners", "array", "Combination of port, protocol and "
                                                       "hostname must be unique for each "
                                                       "listener"))
    return errors


def _path_errors(at: str, path) -> list[FieldError]:
    errors = _enum(f"{at}.type", path.type, PATH_TYPES)
    if errors:
        return errors
    errors = _length(f"{at}.value", path.value, 0, 1024)
    if path.type == "RegularExpression":
        return errors
    value = path.value
    broken = [("value must be an absolute path and start with '/' when type one of ['Exact', "
               "'PathPrefix']", not value.startswith("/"))]
    broken += [(f"must not contain '{bad}' when type one of ['Exact', 'PathPrefix']",
                bad in value) for bad in ("//", "/./", "/../", "%2f", "%2F", "#")]
    broken += [(f"must not end with '{end}' when type one of ['Exact', 'PathPrefix']",
                value.endswith(end)) for end in ("/..", "/.")]
    broken.append(("must only contain valid characters (matching "
                   f"{PATH_CHARS}) for types ['Exact', 'PathPrefix']",
                   not re.match(PATH_CHARS, value)))
    return errors + [_rule(at, "object", message) for message, bad in broken if bad]


def _match_errors(at: str, match) -> list[FieldError]:
    errors = _path_errors(f"{at}.path", match.path)
    for field, items in (("headers", match.headers), ("queryParams", match.query_params)):
        errors += _most(f"{at}.{field}", items, 16)
        for index, item in enumerate(items):
            here = f"{at}.{field}[{index}]"
            errors += _enum(f"{here}.type", item.type, VALUE_TYPES)
            errors += _length(f"{here}.name", item.name, 1, 256) or \
                _pattern(f"{here}.name", item.name, HEADER_NAME)
            errors += _length(f"{here}.value", item.value, 1,
                              4096 if field == "headers" else 1024)
    if match.method is not None:
        errors += _enum(f"{at}.method", match.method, METHODS)
    return errors


def _filter_errors(at: str, found) -> list[FieldError]:
    errors = _enum(f"{at}.type", found.type, FILTERS)
    if errors:
        return errors
    if found.type == "RequestHeaderModifier":
        for field, items in (("set", found.set), ("add", found.add)):
            for index, header in enumerate(items):
                here = f"{at}.requestHeaderModifier.{field}[{index}]"
                errors += _pattern(f"{here}.name", header.name, HEADER_NAME)
                errors += _length(f"{here}.value", header.value, 1, 4096)
    if found.type in ("RequestRedirect", "URLRewrite"):
        where = f"{at}.{'requestRedirect' if found.type == 'RequestRedirect' else 'urlRewrite'}"
        if found.hostname is not None:
            errors += _pattern(f"{where}.hostname", found.hostname, PRECISE_HOSTNAME)
        if found.path is not None:
            errors += _enum(f"{where}.path.type", found.path.type, MODIFIERS)
        if found.type == "RequestRedirect":
            if found.scheme is not None:
                errors += _enum(f"{where}.scheme", found.scheme, ("http", "https"))
            if found.port is not None:
                errors += _between(f"{where}.port", found.port, 1, 65535)
            errors += _enum(f"{where}.statusCode", found.status_code, STATUS_CODES)
    return errors


def _prefix_rewrite(filters) -> bool:
    return any(f.type in ("RequestRedirect", "URLRewrite") and f.path is not None
               and f.path.type == "ReplacePrefixMatch" for f in filters)


def _rule_errors(at: str, rule) -> list[FieldError]:
    errors = _most(f"{at}.matches", rule.matches, 64)
    for index, match in enumerate(rule.matches):
        errors += _match_errors(f"{at}.matches[{index}]", match)
    errors += _most(f"{at}.filters", rule.filters, 16)
    for index, found in enumerate(rule.filters):
        errors += _filter_errors(f"{at}.filters[{index}]", found)
    types = [f.type for f in rule.filters]
    if "RequestRedirect" in types and "URLRewrite" in types:
        errors.append(_rule(f"{at}.filters", "array", "May specify either "
                            "httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, "
                            "but not both"))
    for name in FILTERS:
        if types.count(name) > 1 and name not in ("RequestMirror", "ExtensionRef"):
            errors.append(_rule(f"{at}.filters", "array", f"{name} filter cannot be repeated"))
    if rule.backend_refs and "RequestRedirect" in types:
        errors.append(_rule(at, "object", "RequestRedirect filter must not be used together "
                                          "with backendRefs"))
    if _prefix_rewrite(rule.filters) and (len(rule.matches) != 1
                                          or rule.matches[0].path.type != "PathPrefix"):
        kind = next(f.type for f in rule.filters if f.type in ("RequestRedirect", "URLRewrite")
                    and f.path is not None and f.path.type == "ReplacePrefixMatch")
        errors.append(_rule(at, "object", f"When using {kind} filter with "
                                          "path.replacePrefixMatch, exactly one PathPrefix "
                                          "match must be specified"))
    errors += _most(f"{at}.backendRefs", rule.backend_refs, 16)
    for index, ref in enumerate(rule.backend_refs):
        here = f"{at}.backendRefs[{index}]"
        errors += _length(f"{here}.name", ref.name, 1, 253)
        errors += _between(f"{here}.weight", ref.weight, 0, 1000000)
        if ref.port is not None:
            errors += _between(f"{here}.port", ref.port, 1, 65535)
        elif ref.group == "" and ref.kind == "Service":
            errors.append(_rule(here, "object", "Must have port for Service reference"))
    return errors


def http_route_errors(route: HTTPRoute) -> list[FieldError]:
    errors = _meta(route) + _most("spec.parentRefs", route.parent_refs, 32)
    for index, ref in enumerate(route.parent_refs):
        at = f"spec.parentRefs[{index}]"
        errors += _length(f"{at}.name", ref.name, 1, 253)
        if ref.section_name is not None:
            errors += _pattern(f"{at}.sectionName", ref.section_name, SECTION_NAME)
        if ref.port is not None:
            errors += _between(f"{at}.port", ref.port, 1, 65535)
    errors += _most("spec.hostnames", route.hostnames, 16)
    for index, hostname in enumerate(route.hostnames):
        errors += _pattern(f"spec.hostnames[{index}]", hostname, HOSTNAME)
    if not 1 <= len(route.rules) <= 16:
        errors.append(FieldError("spec.rules", "Too many" if route.rules else "Invalid value",
                                 len(route.rules), "must have at most 16 items" if route.rules
                                 else "spec.rules in body should have at least 1 items"))
    for index, rule in enumerate(route.rules):
        errors += _rule_errors(f"spec.rules[{index}]", rule)
    if sum(len(rule.matches) for rule in route.rules) > 128:
        errors.append(_rule("spec.rules", "array", "While 16 rules and 64 matches per rule are "
                            "allowed, the total number of matches across all rules in a route "
                            "must be less than 128"))
    return errors


def reference_grant_errors(grant: ReferenceGrant) -> list[FieldError]:
    errors = _meta(grant)
    for field, items in (("spec.from", grant.sources), ("spec.to", grant.targets)):
        if not items:
            errors.append(FieldError(field, "Invalid value", 0,
                                     f"{field} in body should have at least 1 items"))
        errors += _most(field, items, 16)
        for index, item in enumerate(items):
            errors += _pattern(f"{field}[{index}].kind", item.kind, KIND)
    for index, source in enumerate(grant.sources):
        errors += _pattern(f"spec.from[{index}].namespace", source.namespace, f"^{_LABEL}$")
    return errors


RULES = {"GatewayClass": gateway_class_errors, "Gateway": gateway_errors,
         "HTTPRoute": http_route_errors, "ReferenceGrant": reference_grant_errors}


def validate(obj) -> None:
    """ValidationError with kubectl's line for the first object rule broken."""
    validation.check(obj.kind, obj.name, RULES[obj.kind](obj))
