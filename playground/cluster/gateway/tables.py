"""`kubectl get` and `kubectl describe` of the Gateway API kinds, with the columns their
CRDs' additionalPrinterColumns declare."""

from __future__ import annotations

import json

from playground.cluster.gateway import status
from playground.cluster.gateway.objects import V1, V1BETA1
from playground.cluster.tables import human_age, namespaced, none_found, render


def _age(cluster, obj) -> str:
    return human_age(cluster.network.clock - obj.metadata.created_at)


def _condition(conditions, kind: str) -> str:
    return next((c.status for c in conditions if c.type == kind), "Unknown")


def gateway_classes_table(cluster, namespace: str | None) -> str:
    found = cluster.api.list("GatewayClass")
    if not found:
        return none_found(None)
    rows = [["NAME", "CONTROLLER", "ACCEPTED", "AGE"]]
    for gc in found:
        rows.append([gc.name, gc.controller_name,
                     _condition(status.class_conditions(cluster, gc.name), "Accepted"),
                     _age(cluster, gc)])
    return render(rows)


def gateways_table(cluster, namespace: str | None) -> str:
    def row_of(gw) -> list[str]:
        view = status.gateway_view(cluster, gw)
        return [gw.name, gw.gateway_class_name, ",".join(view.addresses),
                _condition(view.conditions, "Programmed"), _age(cluster, gw)]
    return namespaced(cluster.api.list("Gateway", namespace), namespace,
                      ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"], row_of)


def http_routes_table(cluster, namespace: str | None) -> str:
    def row_of(route) -> list[str]:
        hostnames = json.dumps(route.hostnames, separators=(",", ":"))
        return [route.name, hostnames if route.hostnames else "", _age(cluster, route)]
    return namespaced(cluster.api.list("HTTPRoute", namespace), namespace,
                      ["NAME", "HOSTNAMES", "AGE"], row_of)


def reference_grants_table(cluster, namespace: str | None) -> str:
    return namespaced(cluster.api.list("ReferenceGrant", namespace), namespace,
                      ["NAME", "AGE"], lambda grant: [grant.name, _age(cluster, grant)])


def service_accounts_table(cluster, namespace: str | None) -> str:
    return namespaced(cluster.api.list("ServiceAccount", namespace), namespace,
                      ["NAME", "SECRETS", "AGE"], lambda sa: [sa.name, "0", _age(cluster, sa)])


def secrets_table(cluster, namespace: str | None) -> str:
    return namespaced(cluster.api.list("Secret", namespace), namespace,
                      ["NAME", "TYPE", "DATA", "AGE"],
                      lambda s: [s.name, s.type, str(len(s.data)), _age(cluster, s)])


def _conditions(conditions, indent: str) -> list[str]:
    """Each condition's fields in kubectl describe's order (alphabetical), aligned."""
    lines = []
    for c in conditions:
        for key, value in (("Message", c.message), ("Reason", c.reason),
                           ("Status", c.status), ("Type", c.type)):
            lines.append(f"{indent}{key + ':':<10}{value}")
    return lines


def describe(cluster, kind: str, namespace: str, name: str) -> str:
    """The spec in brief and the status conditions, as `kubectl describe` lays them out."""
    obj = cluster.api.peek(kind, "" if kind == "GatewayClass" else namespace, name)
    if obj is None:
        return ""
    lines = [f"Name:         {obj.name}"]
    if kind != "GatewayClass":
        lines.append(f"Namespace:    {obj.metadata.namespace}")
    version = V1BETA1 if kind == "ReferenceGrant" else V1
    lines += [f"API Version:  {version}", f"Kind:         {kind}", "Spec:"]
    if kind == "GatewayClass":
        lines += [f"  Controller Name:  {obj.controller_name}", "Status:", "  Conditions:"]
        lines += _conditions(status.class_conditions(cluster, obj.name), "    ")
    elif kind == "Gateway":
        lines.append(f"  Gateway Class Name:  {obj.gateway_class_name}")
        lines.append("  Listeners:")
        for lst in obj.listeners:
            lines += [f"    Name:      {lst.name}", f"    Port:      {lst.port}",
                      f"    Protocol:  {lst.protocol}"]
            if lst.hostname:
                lines.append(f"    Hostname:  {lst.hostname}")
            lines.append(f"    Allowed Routes: Namespaces From: {lst.namespaces_from}")
            if lst.tls_mode is not None:
                refs = ", ".join(f"{r.kind} {r.namespace or obj.metadata.namespace}/{r.name}"
                                 for r in lst.certificate_refs)
                lines.append(f"    TLS: {lst.tls_mode}, certificate refs: {refs}")
        view = status.gateway_view(cluster, obj)
        lines += ["Status:", "  Addresses:"]
        lines += [f"    Type:   IPAddress\n    Value:  {a}" for a in view.addresses]
        lines += ["  Conditions:"] + _conditions(view.conditions, "    ")
        lines.append("  Listeners:")
        for lv in view.listeners:
            lines += [f"    Name:             {lv.name}",
                      f"    Attached Routes:  {lv.attached_routes}",
                      f"    Supported Kinds:  {', '.join(lv.supported_kinds) or '<none>'}",
                      "    Conditions:"] + _conditions(lv.conditions, "      ")
    elif kind == "HTTPRoute":
        lines.append(f"  Hostnames:  {', '.join(obj.hostnames) or '<none>'}")
        lines.append("  Parent Refs:")
        for ref in obj.parent_refs:
            extra = (f" sectionName={ref.section_name}" if ref.section_name else "") + \
                (f" port={ref.port}" if ref.port else "")
            lines.append(f"    {ref.kind} {ref.namespace or obj.metadata.namespace}/"
                         f"{ref.name}{extra}")
        lines.append("  Rules:")
        for index, rule in enumerate(obj.rules):
            lines.append(f"    [{index}]{' ' + rule.name if rule.name else ''} matches: " +
                         "; ".join(_match_text(m) for m in rule.matches))
            for f in rule.filters:
                lines.append(f"        filter {f.type}")
            for ref in rule.backend_refs:
                where = ref.namespace or obj.metadata.namespace
                lines.append(f"        backend {ref.kind} {where}/{ref.name}:{ref.port} "
                             f"weight {ref.weight}")
        lines += ["Status:", "  Parents:"]
        for parent in status.parents(cluster, obj):
            owner = cluster.api.peek("GatewayClass", "", parent.gateway.gateway_class_name)
            lines += [f"    Controller Name:  {owner.controller_name}",
                      f"    Parent Ref:       {parent.ref}", "    Conditions:"]
            lines += _conditions(parent.conditions, "      ")
    elif kind == "ReferenceGrant":
        lines += [f"  From: {f.kind} in {f.namespace}" for f in obj.sources]
        lines += [f"  To:   {t.kind}{' ' + t.name if t.name else ''}" for t in obj.targets]
    return "\n".join(lines) + "\n"


def _match_text(match) -> str:
    parts = [f"{match.path.type} {match.path.value}"]
    if match.method:
        parts.append(f"method {match.method}")
    parts += [f"header {h.name}={h.value}" for h in match.headers]
    parts += [f"query {q.name}={q.value}" for q in match.query_params]
    return ", ".join(parts)
