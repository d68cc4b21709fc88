"""`kubectl describe service`: a Service's fields in kubectl's layout and its Events (what
the load-balancer provider did for it, or why it stays pending)."""

from __future__ import annotations

from playground.cluster.controllers.base import involved
from playground.cluster.service import slices_of
from playground.cluster.tables import human_age, render

WIDTH = 26   # kubectl's describe pads every label to one column


def _line(label: str, value: str) -> str:
    return f"{label + ':':<{WIDTH}}{value}"


def _pairs(mapping: dict[str, str], sep: str) -> list[str]:
    return [f"{k}{sep}{v}" for k, v in sorted(mapping.items())] or ["<none>"]


def describe_service(cluster, service) -> str:
    spec, meta = service.spec, service.metadata
    lines = [_line("Name", service.name), _line("Namespace", meta.namespace)]
    for label, values in (("Labels", _pairs(meta.labels, "=")),
                          ("Annotations", _pairs(meta.annotations, ": "))):
        lines.append(_line(label, values[0]))
        lines += [" " * WIDTH + v for v in values[1:]]
    lines.append(_line("Selector", ",".join(_pairs(spec.selector, "="))))
    lines.append(_line("Type", spec.type))
    if spec.cluster_ip:
        lines += [_line("IP", spec.cluster_ip), _line("IPs", spec.cluster_ip)]
    if spec.load_balancer_ip:
        lines.append(_line("IP", spec.load_balancer_ip))
    if spec.load_balancer_class:
        lines.append(_line("LoadBalancer Class", spec.load_balancer_class))
    mode = service.status.load_balancer_ip_mode
    for address in service.status.load_balancer_ips:
        lines.append(_line("LoadBalancer Ingress", address + (f" ({mode})" if mode else "")))
    endpoints = {}
    for endpoint_slice in slices_of(cluster.api, meta.namespace, service.name):
        for port in endpoint_slice.ports:
            endpoints.setdefault(port.name, []).extend(
                f"{e.address}:{port.port}" for e in endpoint_slice.endpoints if e.ready)
    for port in spec.ports:
        name = port.name or "<unset>"
        lines.append(_line("Port", f"{name}  {port.port}/{port.protocol}"))
        lines.append(_line("TargetPort", f"{port.target_port or port.port}/{port.protocol}"))
        if port.node_port:
            lines.append(_line("NodePort", f"{name}  {port.node_port}/{port.protocol}"))
        lines.append(_line("Endpoints", ",".join(endpoints.get(port.name, [])) or "<none>"))
    lines.append(_line("Session Affinity", spec.session_affinity))
    if service.externally_accessible:
        lines.append(_line("External Traffic Policy", spec.external_traffic_policy))
    lines.append(_line("Internal Traffic Policy", spec.internal_traffic_policy))
    if spec.health_check_node_port:
        lines.append(_line("HealthCheck NodePort", str(spec.health_check_node_port)))
    events = cluster.api.events.about(involved(service))
    if not events:
        return "\n".join(lines + [_line("Events", "<none>")]) + "\n"
    now = cluster.network.clock
    rows = [["Type", "Reason", "Age", "From", "Message"],
            ["----", "------", "----", "----", "-------"]]
    rows += [[e.type, e.reason, human_age(now - e.time), e.source, e.message] for e in events]
    table = "".join("  " + row + "\n" for row in render(rows).splitlines())
    return "\n".join(lines + ["Events:"]) + "\n" + table
