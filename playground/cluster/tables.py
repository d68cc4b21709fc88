"""`kubectl get` style tables: columns padded to the widest cell plus three spaces."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.endpoint_slices import table_row
from playground.cluster.node_drain import unschedulable
from playground.cluster.objects import selector_text

KUBERNETES_VERSION = "v1.31.0"


def human_age(seconds: float) -> str:
    """kubectl's short duration: 45s, 3m12s, 2d4h."""
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"


def none_found(namespace: str | None) -> str:
    return f"No resources found in {namespace} namespace.\n" if namespace else \
        "No resources found\n"


def render(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def namespaced(objects: list, namespace: str | None, header: list[str], row_of) -> str:
    """A table of namespaced objects; with all namespaces (-A) a NAMESPACE column leads."""
    if not objects:
        return none_found(namespace)
    every = namespace is None
    rows = [(["NAMESPACE"] if every else []) + header]
    for obj in objects:
        rows.append(([obj.metadata.namespace] if every else []) + row_of(obj))
    return render(rows)


def _pairs(mapping: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in mapping.items()) or "<none>"


def pods_table(cluster: Cluster, namespace: str | None, wide: bool,
               show_labels: bool = False) -> str:
    header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if wide:
        header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    if show_labels:
        header.append("LABELS")
    now = cluster.network.clock

    def row_of(pod) -> list[str]:
        total = len(pod.spec.containers)
        running = pod.status.phase == "Running"
        status = pod.status.phase
        if not running and pod.spec.node_name:
            status = "ContainerCreating"
        if pod.terminating:
            status = "Terminating"
        row = [pod.name, f"{total if running else 0}/{total}", status, "0",
               human_age(now - pod.metadata.created_at)]
        if wide:
            row += [pod.status.pod_ip or "<none>", pod.spec.node_name or "<none>", "<none>",
                    "<none>"]
        if show_labels:
            row.append(_pairs(pod.metadata.labels))
        return row

    return namespaced(cluster.pods(namespace), namespace, header, row_of)


def nodes_table(cluster: Cluster, wide: bool, show_labels: bool = False) -> str:
    header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if wide:
        header += ["INTERNAL-IP", "EXTERNAL-IP", "POD-CIDR"]
    if show_labels:
        header.append("LABELS")
    rows = [header]
    now = cluster.network.clock
    for node in cluster.nodes():
        status = "Ready" if node.status.ready else "NotReady"
        if unschedulable(node):   # kubectl appends it for spec.unschedulable
            status += ",SchedulingDisabled"
        row = [node.name, status, node.roles,
               human_age(now - node.metadata.created_at), KUBERNETES_VERSION]
        if wide:
            row += [node.status.internal_ip or "<none>", node.status.external_ip or "<none>",
                    node.spec.pod_cidr or "<none>"]
        if show_labels:   # kubectl prints labels.Set's String(): the keys sorted
            row.append(_pairs(dict(sorted(node.metadata.labels.items()))))
        rows.append(row)
    return render(rows)


def external_ip_cell(service, wide: bool) -> str:
    """kubectl's EXTERNAL-IP (getServiceExternalIP): an ExternalName's DNS name, else the
    load balancer's addresses (cut to 13 characters and ... unless -o wide) and then the
    Service's externalIPs."""
    spec = service.spec
    if spec.type == "ExternalName":
        return spec.external_name
    balancers = ",".join(service.status.load_balancer_ips) if spec.type == "LoadBalancer" \
        else ""
    if balancers and not wide and len(balancers) > 16:
        balancers = balancers[:13] + "..."
    shown = ",".join([*filter(None, [balancers]), *spec.external_ips])
    return shown or ("<pending>" if spec.type == "LoadBalancer" else "<none>")


def services_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(service) -> list[str]:
        ports = ",".join(
            f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port else f"{p.port}/{p.protocol}"
            for p in service.spec.ports) or "<none>"
        row = [service.name, service.spec.type, service.spec.cluster_ip or "<none>",
               external_ip_cell(service, wide), ports,
               human_age(now - service.metadata.created_at)]
        return row + [_pairs(service.spec.selector)] if wide else row

    header = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    return namespaced(cluster.services(namespace), namespace,
                      header + ["SELECTOR"] if wide else header, row_of)


def endpoint_slices_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(endpoint_slice) -> list[str]:
        return table_row(endpoint_slice) + [human_age(now - endpoint_slice.metadata.created_at)]

    return namespaced(cluster.api.list("EndpointSlice", namespace), namespace,
                      ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], row_of)


def deployments_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(deployment) -> list[str]:
        status = deployment.status
        row = [deployment.name, f"{status.ready_replicas}/{deployment.replicas}",
               str(status.updated_replicas), str(status.available_replicas),
               human_age(now - deployment.metadata.created_at)]
        return row + _template_cells(deployment) if wide else row

    header = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    return namespaced(cluster.deployments_list(namespace), namespace,
                      header + ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else header, row_of)


def _template_cells(workload) -> list[str]:
    containers = workload.template.containers
    return [",".join(c.name for c in containers), ",".join(c.image for c in containers),
            selector_text(workload.selector, workload.selector_expressions)]


def replicasets_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(rs) -> list[str]:
        row = [rs.name, str(rs.replicas), str(rs.status.replicas), str(rs.status.ready_replicas),
               human_age(now - rs.metadata.created_at)]
        return row + _template_cells(rs) if wide else row

    header = ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    return namespaced(cluster.replica_sets(namespace), namespace,
                      header + ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else header, row_of)


def daemonsets_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(ds) -> list[str]:
        s = ds.status
        row = [ds.name, str(s.desired_number_scheduled), str(s.current_number_scheduled),
               str(s.number_ready), str(s.updated_number_scheduled), str(s.number_available),
               _pairs(ds.template.node_selector), human_age(now - ds.metadata.created_at)]
        return row + _template_cells(ds) if wide else row

    header = ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
              "NODE SELECTOR", "AGE"]
    return namespaced(cluster.api.list("DaemonSet", namespace), namespace,
                      header + ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else header, row_of)


def statefulsets_table(cluster: Cluster, namespace: str | None, wide: bool = False) -> str:
    now = cluster.network.clock

    def row_of(sts) -> list[str]:
        row = [sts.name, f"{sts.status.ready_replicas}/{sts.replicas}",
               human_age(now - sts.metadata.created_at)]
        return row + _template_cells(sts)[:2] if wide else row

    header = ["NAME", "READY", "AGE"]
    return namespaced(cluster.api.list("StatefulSet", namespace), namespace,
                      header + ["CONTAINERS", "IMAGES"] if wide else header, row_of)


def ingresses_table(cluster: Cluster, namespace: str | None) -> str:
    ingresses = cluster.ingresses(namespace)
    if not ingresses:
        return none_found(namespace)
    controller = cluster.api.peek("Service", "ingress-nginx", "ingress-nginx-controller")
    address = ",".join(controller.status.load_balancer_ips) if controller else ""
    rows = [["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]]
    for ingress in ingresses:
        hosts = ",".join(r.host or "*" for r in ingress.rules) or "*"
        rows.append([ingress.name, "nginx", hosts, address, "80",
                     human_age(cluster.network.clock - ingress.metadata.created_at)])
    return render(rows)


def proxy_configs_table(cluster: Cluster, namespace: str | None) -> str:
    """kube-proxy's options, one column per field its iptables rules depend on."""
    now = cluster.network.clock

    def row_of(config) -> list[str]:
        local = config.detect_local_mode + {"BridgeInterface": f"({config.bridge_interface})",
                                            "InterfaceNamePrefix":
                                            f"({config.interface_name_prefix})"}.get(
            config.detect_local_mode, "")
        return [config.name, str(config.masquerade_all).lower(), str(config.masquerade_bit),
                str(config.localhost_node_ports).lower(), local,
                config.cluster_cidr or "<cluster>",
                ",".join(config.node_port_addresses) or "<all>",
                human_age(now - config.metadata.created_at)]

    header = ["NAME", "MASQUERADE-ALL", "MASQUERADE-BIT", "LOCALHOST-NODEPORTS",
              "DETECT-LOCAL", "CLUSTER-CIDR", "NODEPORT-ADDRESSES", "AGE"]
    return namespaced(cluster.api.list("KubeProxyConfiguration", namespace), namespace,
                      header, row_of)


def config_maps_table(cluster: Cluster, namespace: str | None) -> str:
    now = cluster.network.clock
    return namespaced(cluster.api.list("ConfigMap", namespace), namespace,
                      ["NAME", "DATA", "AGE"],
                      lambda cm: [cm.name, str(len(cm.data)),
                                  human_age(now - cm.metadata.created_at)])


def events_table(cluster: Cluster, namespace: str | None) -> str:
    """`kubectl get events`: what controllers and agents failed to do, newest last. An
    event lives in its object's namespace; a cluster-scoped object's, in default."""
    now = cluster.network.clock
    rows = []
    for event in cluster.api.events.entries:
        kind, _, rest = event.involved.partition("/")
        home, _, name = rest.rpartition("/")
        home = home or "default"
        if namespace is None or home == namespace:
            rows.append(([home] if namespace is None else []) + [
                human_age(now - event.time), event.type, event.reason, f"{kind}/{name}",
                event.message])
    if not rows:
        return none_found(namespace)
    header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    return render([(["NAMESPACE"] if namespace is None else []) + header, *rows])


def network_policies_table(cluster: Cluster, namespace: str | None) -> str:
    """kubectl's NAME, POD-SELECTOR, AGE (an empty selector shows as <none>)."""
    now = cluster.network.clock
    return namespaced(cluster.network_policies(namespace), namespace,
                      ["NAME", "POD-SELECTOR", "AGE"],
                      lambda p: [p.name, p.spec.pod_selector.text(),
                                 human_age(now - p.metadata.created_at)])
def _json_list(items: list[str]) -> str:
    """An array column of a CRD's printer columns, as kubectl prints it."""
    return "[" + ",".join(f'"{item}"' for item in items) + "]" if items else ""


def ip_address_pools_table(cluster: Cluster, namespace: str | None) -> str:
    """`kubectl get ipaddresspools`: MetalLB's printer columns (no AGE: a CRD's columns)."""
    def row_of(pool) -> list[str]:
        return [pool.name, str(pool.auto_assign).lower(), str(pool.avoid_buggy_ips).lower(),
                _json_list(pool.addresses)]
    return namespaced(cluster.api.list("IPAddressPool", namespace), namespace,
                      ["NAME", "AUTO ASSIGN", "AVOID BUGGY IPS", "ADDRESSES"], row_of)


def l2_advertisements_table(cluster: Cluster, namespace: str | None, wide: bool) -> str:
    def row_of(ad) -> list[str]:
        row = [ad.name, _json_list(ad.ip_address_pools), "", _json_list(ad.interfaces)]
        if wide:
            row.append("[" + ",".join(
                "{" + ",".join(f'"{k}":"{v}"' for k, v in s.match_labels.items()) + "}"
                for s in ad.node_selectors) + "]" if ad.node_selectors else "")
        return row
    header = ["NAME", "IPADDRESSPOOLS", "IPADDRESSPOOL SELECTORS", "INTERFACES"]
    return namespaced(cluster.api.list("L2Advertisement", namespace), namespace,
                      header + (["NODE SELECTORS"] if wide else []), row_of)
