"""Service and Ingress refusals in the API server's words: one line naming the field and
the rule, as kubectl prints it (pkg/apis/core/validation and pkg/apis/networking/validation
at Kubernetes v1.31)."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.manifests import ManifestError, apply_files
from playground.cluster.objects import ObjectMeta
from playground.cluster.service import ServicePort

SERVICE_PORT_80 = ('core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
                   'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, '
                   'NodePort:0}')


@pytest.mark.parametrize(("ports", "fields", "line"), [
    ([], {}, "spec.ports: Required value"),
    ([ServicePort(80, name="a"), ServicePort(81)], {}, "spec.ports[1].name: Required value"),
    ([ServicePort(80, name="a"), ServicePort(81, name="a")], {},
     'spec.ports[1].name: Duplicate value: "a"'),
    ([ServicePort(80), ServicePort(80)], {},
     f"[spec.ports[0].name: Required value, spec.ports[1].name: Required value, "
     f"spec.ports[1]: Duplicate value: {SERVICE_PORT_80}]"),
    ([ServicePort(80, name="a"), ServicePort(80, name="b")], {},
     f"spec.ports[1]: Duplicate value: {SERVICE_PORT_80}"),
    ([ServicePort(80, name="a", node_port=30080), ServicePort(81, name="b", node_port=30080)],
     {"type": "NodePort"}, "spec.ports[1].nodePort: Duplicate value: 30080"),
    ([ServicePort(80)], {"session_affinity": "Sticky"},
     'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'),
    ([ServicePort(80)], {"type": "NodePort", "external_traffic_policy": "Nearest"},
     'spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", '
     '"Local"'),
    ([ServicePort(80)], {"internal_traffic_policy": "Node"},
     'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", '
     '"Local"'),
    ([ServicePort(80)], {"cluster_ip": "10.96.0.300"},
     'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. '
     '10.9.8.7 or 2001:db8::ffff)'),
    ([ServicePort(80)], {"cluster_ip": "10.200.0.1"},
     'spec.clusterIPs: Invalid value: []string{"10.200.0.1"}: failed to allocate IP '
     '10.200.0.1: provided IP is not in the valid range. The range of valid IPs is '
     '10.96.0.0/12'),
    ([ServicePort(80)], {"type": "LoadBalancer", "load_balancer_source_ranges": ["10.0.0/8"]},
     'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0/8": must be a valid CIDR '
     'value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'),
])
async def test_a_service_is_refused_as_the_api_server_words_it(lab, ports, fields, line):
    with pytest.raises(ClusterError) as error:
        await lab.add_service("shop", ports, selector={"app": "web"}, **fields)
    assert str(error.value) == f'The Service "shop" is invalid: {line}'
    assert lab.api.peek("Service", "default", "shop") is None


async def test_an_external_policy_patched_onto_a_cluster_ip_service_is_refused(lab):
    with pytest.raises(ClusterError) as error:
        await lab.update_service("web", external_traffic_policy="Local")
    assert str(error.value) == ('The Service "web" is invalid: spec.externalTrafficPolicy: '
                                'Invalid value: "Local": may only be set for '
                                'externally-accessible services')


def rule(host=None, path="/", path_type="Prefix"):
    return IngressRule([IngressPath(IngressBackend("web", 80), path, path_type)], host)


@pytest.mark.parametrize(("rules", "line"), [
    ([], "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or "
         "`rules` must be specified"),
    ([rule(host="10.0.0.1")], 'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS '
                              "name, not an IP address"),
    ([rule(host="Shop.example")], 'spec.rules[0].host: Invalid value: "Shop.example": a '
     "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
     "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
     "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    ([rule(host="a.*.example")], 'spec.rules[0].host: Invalid value: "a.*.example": a '
     "wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
     "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
     "alphanumeric character (e.g. '*.example.com', regex used for validation is "
     "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    ([rule(path_type="Regex")], 'spec.rules[0].http.paths[0].pathType: Unsupported value: '
     '"Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'),
    ([rule(path="shop")], 'spec.rules[0].http.paths[0].path: Invalid value: "shop": must be '
                          "an absolute path"),
])
async def test_an_ingress_is_refused_as_the_api_server_words_it(lab, rules, line):
    with pytest.raises(ClusterError) as error:
        await lab.add_ingress(Ingress(ObjectMeta("front", "default"), rules))
    assert str(error.value) == f'The Ingress "front" is invalid: {line}'
    assert lab.api.peek("Ingress", "default", "front") is None


async def test_a_wildcard_host_and_an_implementation_specific_empty_path_are_accepted(lab):
    await lab.add_ingress(Ingress(ObjectMeta("front", "default"), [
        rule(host="*.shop.example"), rule(host="shop.example", path="",
                                          path_type="ImplementationSpecific")]))
    assert lab.api.peek("Ingress", "default", "front") is not None


INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: front}}
spec:
  rules:
  - http:
      paths:
      - {path}
"""


@pytest.mark.parametrize(("path", "line"), [
    ("{path: /, backend: {service: {name: web, port: {number: 80}}}}",
     "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"),
    ("{path: /, pathType: Prefix, backend: {service: {name: web}}}",
     "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"),
    ("{path: /, pathType: Prefix, backend: {service: {port: {number: 80}}}}",
     "spec.rules[0].http.paths[0].backend.service.name: Required value"),
    ("{path: /, pathType: Prefix, backend: {}}",
     'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is '
     "required"),
])
async def test_a_manifest_ingress_is_refused_as_the_api_server_words_it(lab, tmp_path, path,
                                                                        line):
    manifest = tmp_path / "ingress.yaml"
    manifest.write_text(INGRESS.format(path=path))
    with pytest.raises(ManifestError) as error:
        await apply_files(lab, [str(manifest)])
    assert str(error.value).endswith(f'The Ingress "front" is invalid: {line}')


async def test_a_manifest_service_port_without_a_number_is_refused_by_the_port_rule(lab,
                                                                                   tmp_path):
    manifest = tmp_path / "service.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: shop}\n"
                        "spec: {ports: [{targetPort: 80}]}\n")
    with pytest.raises(ManifestError) as error:
        await apply_files(lab, [str(manifest)])
    assert str(error.value).endswith('The Service "shop" is invalid: spec.ports[0].port: '
                                     "Invalid value: 0: must be between 1 and 65535, inclusive")
