"""Kubernetes YAML: read with limits (depth, aliases, duplicate keys), and a lab written as
YAML for a real kind cluster, with the kind config of the same nodes.

What kind sets up by itself (the kubernetes and kube-dns Services, CoreDNS) and what only
the playground models (its ingress controller) is left out; what the cluster assigns
(clusterIP, nodePort, status) is left for the real cluster to assign.
"""

from __future__ import annotations

import yaml

from playground.cluster import endpoint_slices
from playground.cluster.cluster import Cluster
from playground.cluster.gateway.controller import managed_namespaces
from playground.cluster.gateway.documents import KINDS as GATEWAY_KINDS
from playground.cluster.gateway.documents import NOTE as GATEWAY_NOTE
from playground.cluster.gateway.documents import document as gateway_document
from playground.cluster.ingress import CONTROLLER_NAMESPACE, IngressBackend
from playground.cluster.kinds import API_VERSIONS
from playground.cluster.netpol.export import spec_document
from playground.cluster.objects import SYSTEM_NAMESPACES
from playground.cluster.replicaset import REVISION
from playground.cluster.service import CONTROLLER_NAME, MANAGED_BY, SERVICE_CIDR
from playground.cluster.service_fields import DEFAULT_AFFINITY_SECONDS
from playground.limits import MAX_YAML_ALIAS_NODES, MAX_YAML_DEPTH

KIND_CLUSTER = "kind"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


class YamlError(ValueError):
    """YAML that cannot be read, or is over a limit; one line, with the line number."""


def _line(mark) -> str:
    return f"line {mark.line + 1}: " if mark is not None else ""


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing what would exhaust the stack or memory before it does:
    nesting past MAX_YAML_DEPTH, aliases standing for more than MAX_YAML_ALIAS_NODES values
    in all (counted before they are expanded), and a key given twice in one mapping."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.depth = 0
        self.aliased = 0
        self.sizes: dict[int, int] = {}
        self.open: set[str] = set()  # anchors of the collections being read

    def compose_sequence_node(self, anchor):
        return self._holding(anchor, super().compose_sequence_node)

    def compose_mapping_node(self, anchor):
        return self._holding(anchor, super().compose_mapping_node)

    def _holding(self, anchor, compose):
        self.open.add(anchor)
        try:
            return compose(anchor)
        finally:
            self.open.discard(anchor)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self.open:
                raise YamlError(f"{_line(event.start_mark)}an alias refers to a value that "
                                "holds it")
            node = self.anchors.get(event.anchor)
            if node is not None:
                self.aliased += self._size(node)
                if self.aliased > MAX_YAML_ALIAS_NODES:
                    raise YamlError(f"{_line(event.start_mark)}document contains excessive "
                                    f"aliasing (more than {MAX_YAML_ALIAS_NODES} values)")
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise YamlError(f"{_line(self.peek_event().start_mark)}nested more than "
                            f"{MAX_YAML_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def _size(self, node) -> int:
        """How many values the node stands for once every alias in it is expanded."""
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self.sizes[id(node)] = size
        return size

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                raise YamlError(f"{_line(key_node.start_mark)}a mapping key must be a string "
                                "or a number") from None
            if first is not key_node.start_mark:
                raise YamlError(f'{_line(key_node.start_mark)}mapping key "{key}" already '
                                f"defined at line {first.line + 1}")
        return super().construct_mapping(node, deep)


def load_all(text: str) -> list:
    """Every document of a YAML stream, read within the limits; YamlError otherwise."""
    loader = None
    try:
        loader = _BoundedLoader(text)  # its reader already refuses control characters
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    except yaml.reader.ReaderError as error:
        raise YamlError(f"character {error.position + 1}: unacceptable character "
                        f"#x{error.character:04x}: special characters are not allowed") \
            from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise YamlError(f"{_line(mark)}{problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _nodes(cluster: Cluster) -> list:
    return sorted(cluster.nodes(), key=lambda n: (n.metadata.created_at, n.name))


def kind_node_names(cluster: Cluster) -> list[str]:
    """The names kind gives the nodes of our config: kind-control-plane, kind-worker2, ..."""
    names, counts = [], {"control-plane": 0, "worker": 0}
    for node in _nodes(cluster):
        role = "control-plane" if CONTROL_PLANE_LABEL in node.metadata.labels else "worker"
        counts[role] += 1
        suffix = "" if counts[role] == 1 else str(counts[role])
        names.append(f"{KIND_CLUSTER}-{role}{suffix}")
    return names


def kind_config(cluster: Cluster) -> str:
    nodes = [{"role": "control-plane" if CONTROL_PLANE_LABEL in n.metadata.labels else "worker"}
             for n in _nodes(cluster)]
    # kind's config wants the control plane first; kind names nodes in this order
    nodes.sort(key=lambda n: n["role"] != "control-plane")
    config = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": KIND_CLUSTER,
              "networking": {"podSubnet": str(cluster.cluster_cidr),
                             "serviceSubnet": str(SERVICE_CIDR)},
              "nodes": nodes}
    cilium = cluster.cni.replaces_kube_proxy
    wiring = "kindnet and kube-proxy are left out for it" if cilium else \
        "kind's own kindnet wires pods with ptp"
    head = (f"# kind config for the lab's {len(nodes)} nodes (the lab used the "
            f"{cluster.cni.name} CNI plugin; {wiring}).\n"
            "# kind create cluster --config THIS-FILE\n")
    if cilium:  # Cilium brings both instead
        config["networking"].update(disableDefaultCNI=True, kubeProxyMode="none")
        routing = "routingMode=tunnel and tunnelProtocol=vxlan" if cluster.cni.tunnel else \
            "routingMode=native and autoDirectNodeRoutes=true"
        head += f"# then install Cilium with kubeProxyReplacement=true, {routing}\n"
    elif cluster.cni.routing == "flannel":  # kindnet would fight flannel for the routes
        config["networking"]["disableDefaultCNI"] = True
        head += ("# kindnet is off: install flannel (vxlan backend, Network 10.244.0.0/16) "
                 "before the pods can start\n")
    if cluster.proxy_mode != "iptables":  # kind's own switch for kube-proxy's mode
        config["networking"]["kubeProxyMode"] = cluster.proxy_mode
    return head + yaml.safe_dump(config, sort_keys=False)


def _meta(obj, with_namespace: bool = True) -> dict:
    meta: dict = {"name": obj.metadata.name}
    if with_namespace:
        meta["namespace"] = obj.metadata.namespace
    if obj.metadata.labels:
        meta["labels"] = dict(obj.metadata.labels)
    annotations = {k: v for k, v in obj.metadata.annotations.items() if k != REVISION}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _containers(containers) -> list[dict]:
    found = []
    for container in containers:
        item: dict = {"name": container.name, "image": container.image}
        if container.ports:
            item["ports"] = []
            for port in container.ports:
                entry: dict = {"containerPort": port.container_port}
                if port.name:
                    entry["name"] = port.name
                if port.protocol != "TCP":
                    entry["protocol"] = port.protocol
                if port.host_port is not None:
                    entry["hostPort"] = port.host_port
                if port.host_ip:
                    entry["hostIP"] = port.host_ip
                item["ports"].append(entry)
        found.append(item)
    return found


def _exported(obj) -> bool:
    namespace = obj.metadata.namespace
    return namespace not in ("kube-system", CONTROLLER_NAMESPACE, *managed_namespaces()) and not (
        obj.kind == "Service" and obj.key == "default/kubernetes")


def _typed(kind: str) -> dict:
    """A document's apiVersion and kind, as the table of kinds has them."""
    return {"apiVersion": API_VERSIONS[kind], "kind": kind}


def _pod(pod, node_names: dict[str, str]) -> dict:
    spec: dict = {"containers": _containers(pod.spec.containers)}
    if pod.spec.host_network:
        spec["hostNetwork"] = True
    if pod.spec.node_name in node_names:
        spec["nodeName"] = node_names[pod.spec.node_name]
    _scheduling(spec, pod.spec.node_selector, pod.spec.tolerations)
    _dns(spec, pod.spec.dns_policy, pod.spec.dns_config)
    return {**_typed("Pod"), "metadata": _meta(pod), "spec": spec}


def _scheduling(spec: dict, node_selector: dict, tolerations: list) -> None:
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        spec["tolerations"] = [{k: v for k, v in (("key", t.key), ("operator", t.operator),
                                                  ("value", t.value), ("effect", t.effect)) if v}
                               for t in tolerations]


def _selector(workload) -> dict:
    selector: dict = {}
    if workload.selector:
        selector["matchLabels"] = dict(workload.selector)
    if workload.selector_expressions:
        selector["matchExpressions"] = [
            {"key": e.key, "operator": e.operator, **({"values": list(e.values)}
                                                      if e.values else {})}
            for e in workload.selector_expressions]
    return selector


def _deployment(deployment) -> dict:
    return {**_typed("Deployment"), "metadata": _meta(deployment),
            "spec": {"replicas": deployment.replicas,
                     "selector": _selector(deployment),
                     "template": _template(deployment.template)}}


def _workload(workload, spec: dict) -> dict:
    """A DaemonSet or StatefulSet: `spec` first, then its selector and template."""
    return {**_typed(workload.kind), "metadata": _meta(workload),
            "spec": {**spec, "selector": _selector(workload),
                     "template": _template(workload.template)}}


def _template(template) -> dict:
    spec: dict = {"containers": _containers(template.containers)}
    if template.host_network:
        spec["hostNetwork"] = True
    _scheduling(spec, template.node_selector, template.tolerations)
    _dns(spec, template.dns_policy, template.dns_config)
    return {"metadata": {"labels": dict(template.labels)}, "spec": spec}


def _dns(spec: dict, policy: str, config) -> None:
    """dnsPolicy and dnsConfig, when not the API's defaults."""
    if policy != "ClusterFirst":
        spec["dnsPolicy"] = policy
    if config is None:
        return
    given: dict = {}
    if config.nameservers:
        given["nameservers"] = list(config.nameservers)
    if config.searches:
        given["searches"] = list(config.searches)
    if config.options:
        given["options"] = [{"name": name, **({"value": value} if colon else {})}
                            for name, colon, value in (o.partition(":")
                                                       for o in config.options)]
    spec["dnsConfig"] = given


def _service(service) -> dict:
    spec: dict = {"type": service.spec.type}
    if service.spec.selector:
        spec["selector"] = dict(service.spec.selector)
    spec["ports"] = []
    for port in service.spec.ports:
        entry: dict = {"port": port.port}
        if port.name:
            entry["name"] = port.name
        if port.target_port is not None:
            entry["targetPort"] = port.target_port
        if port.protocol != "TCP":
            entry["protocol"] = port.protocol
        spec["ports"].append(entry)
    optional = (("loadBalancerIP", service.spec.load_balancer_ip, None),
                ("loadBalancerClass", service.spec.load_balancer_class, None),
                ("sessionAffinity", service.spec.session_affinity, "None"),
                ("externalTrafficPolicy", service.spec.external_traffic_policy, "Cluster"),
                ("internalTrafficPolicy", service.spec.internal_traffic_policy, "Cluster"),
                ("loadBalancerSourceRanges", service.spec.load_balancer_source_ranges or None,
                 None),
                ("clusterIP", "None" if service.spec.cluster_ip == "None" else None, None),
                ("externalIPs", list(service.spec.external_ips) or None, None),
                ("externalName", service.spec.external_name, ""))
    for key, value, default in optional:
        if value != default:
            spec[key] = value
    if service.spec.allocate_load_balancer_node_ports is False:
        spec["allocateLoadBalancerNodePorts"] = False
    timeout = service.spec.session_affinity_timeout_seconds
    if timeout is not None and timeout != DEFAULT_AFFINITY_SECONDS:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": timeout}}
    return {**_typed("Service"), "metadata": _meta(service), "spec": spec}


def _backend(backend: IngressBackend) -> dict:
    port = {"number": backend.port} if isinstance(backend.port, int) else {"name": backend.port}
    return {"service": {"name": backend.service, "port": port}}


def _ingress(ingress) -> dict:
    spec: dict = {"ingressClassName": "nginx"}
    if ingress.default_backend is not None:
        spec["defaultBackend"] = _backend(ingress.default_backend)
    rules = []
    for rule in ingress.rules:
        entry: dict = {}
        if rule.host:
            entry["host"] = rule.host
        entry["http"] = {"paths": [{"path": p.path, "pathType": p.path_type,
                                    "backend": _backend(p.backend)} for p in rule.paths]}
        rules.append(entry)
    if rules:
        spec["rules"] = rules
    return {**_typed("Ingress"),
            "metadata": _meta(ingress), "spec": spec}


def _namespace_meta(cluster: Cluster, name: str) -> dict:
    """Its name and the labels given to it (namespaceSelectors select by them)."""
    namespace = cluster.api.peek("Namespace", "", name)
    labels = dict(namespace.metadata.labels) if namespace is not None else {}
    return {"name": name, **({"labels": labels} if labels else {})}


def manifests(cluster: Cluster) -> str:
    """Namespaces, bare Pods, Deployments, DaemonSets, StatefulSets, Services, Ingresses and
    NetworkPolicies, as one YAML stream."""
    lab_names = [n.name for n in _nodes(cluster)]
    node_names = dict(zip(lab_names, kind_node_names(cluster), strict=True))
    pods = [p for p in cluster.pods() if _exported(p)
            and not p.metadata.owner_references]
    deployments = [d for d in cluster.deployments_list() if _exported(d)]
    daemon_sets = [d for d in cluster.api.list("DaemonSet") if _exported(d)]
    stateful_sets = [d for d in cluster.api.list("StatefulSet") if _exported(d)]
    services = [s for s in cluster.services() if _exported(s)]
    ingresses = [i for i in cluster.ingresses() if _exported(i)]
    slices = [s for s in cluster.api.list("EndpointSlice") if _exported(s)
              and s.metadata.labels.get(MANAGED_BY) != CONTROLLER_NAME
              and s.service != "default/kubernetes"]   # the API server keeps that one
    policies = [p for p in cluster.network_policies() if _exported(p)]
    stored = [o for kind in GATEWAY_KINDS for o in cluster.api.list(kind) if _exported(o)]
    used = {o.metadata.namespace for o in [*pods, *deployments, *daemon_sets, *stateful_sets,
                                           *services, *ingresses, *slices, *policies, *stored]
            if o.metadata.namespace}
    # a labelled namespace may be what a namespaceSelector selects, even with nothing in it
    used |= {ns.name for ns in cluster.api.list("Namespace")
             if ns.metadata.labels and ns.name != CONTROLLER_NAMESPACE}
    documents = [{**_typed("Namespace"), "metadata": _namespace_meta(cluster, name)}
                 for name in sorted(used - set(SYSTEM_NAMESPACES))]
    documents += [_pod(p, node_names) for p in pods]
    documents += [_deployment(d) for d in deployments]
    documents += [_workload(d, {}) for d in daemon_sets]
    documents += [_workload(d, {"serviceName": d.service_name, "replicas": d.replicas,
                                "podManagementPolicy": d.pod_management_policy})
                  for d in stateful_sets]
    documents += [_service(s) for s in services]
    documents += [endpoint_slices.document(s, _meta(s)) for s in slices]
    documents += [_ingress(i) for i in ingresses]
    documents += [{**_typed("NetworkPolicy"), "metadata": _meta(p), "spec": spec_document(p)}
                  for p in policies]
    documents += [gateway_document(o) for o in stored]
    head = "# The lab's objects, for a kind cluster made with the kind config written beside.\n"
    if ingresses:
        head += ("# The Ingresses need ingress-nginx: kubectl apply -f "
                 "https://kind.sigs.k8s.io/examples/ingress/deploy-ingress-nginx.yaml\n")
    if any(o.kind == "Gateway" for o in stored):
        head += GATEWAY_NOTE
    if any(s.spec.type == "LoadBalancer" for s in services):
        head += ("# LoadBalancer Services get an address on kind with cloud-provider-kind "
                 "running.\n")
    return head + yaml.safe_dump_all(documents, sort_keys=False)
