"""The table of API kinds: each kind's record, its names in kubectl, how a manifest applies
it, its `kubectl get` table, how a lab file's objects of it are checked, and where it comes
in a restore. Manifests, lab files, restore and the shell read this table; a new kind is
one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playground.cluster import manifest_apply as manifests
from playground.cluster import saved_checks, tables
from playground.cluster.configmap import ConfigMap, validate_config_map
from playground.cluster.daemonset import DaemonSet, validate_daemon_set
from playground.cluster.deployment import Deployment, validate_deployment
from playground.cluster.gateway import manifest as gateway_manifests
from playground.cluster.gateway import tables as gateway_tables
from playground.cluster.gateway.objects import (
    V1,
    V1BETA1,
    Gateway,
    GatewayClass,
    HTTPRoute,
    ReferenceGrant,
)
from playground.cluster.ingress import Ingress
from playground.cluster.metallb_objects import API_VERSION as METALLB
from playground.cluster.metallb_objects import (
    IPAddressPool,
    L2Advertisement,
    check_pools,
    validate_advertisement,
)
from playground.cluster.netpol.model import NetworkPolicy
from playground.cluster.netpol.validate import validate_network_policy
from playground.cluster.objects import KubeNamespace, Node, Pod
from playground.cluster.proxy_config import KubeProxyConfiguration, validate_proxy_config
from playground.cluster.replicaset import ReplicaSet, validate_replica_set
from playground.cluster.secret import Secret
from playground.cluster.service import EndpointSlice, Service
from playground.cluster.service_account import ServiceAccount
from playground.cluster.statefulset import StatefulSet, validate_stateful_set
from playground.cluster.stored import validate_stored

# when a restore puts a kind back: nodes first (asleep), then the objects the controllers
# see as they first came, then what needs the derived state there (an Ingress, its LB)
NODES, OBJECTS, AFTER_DERIVED = "nodes", "objects", "after-derived"


@dataclass(frozen=True)
class Kind:
    name: str                      # the API's kind, as in a manifest
    record: type                   # the dataclass of its objects
    api_version: str               # its group/version, as a manifest's apiVersion names it
    names: tuple[str, ...] = ()    # what kubectl calls it: singular, plural, short names
    resource: str = ""             # kubectl's resource name in its messages (deployment.apps)
    apply: Callable | None = None  # a manifest document of it: (cluster, doc) -> None
    table: Callable | None = None  # kubectl get: (cluster, namespace, wide, labels) -> str
    check: Callable | None = None  # a lab file's objects of it: (found, saved, cidr) -> None
    restore: str = OBJECTS


KINDS: tuple[Kind, ...] = (   # in restore order
    Kind("Namespace", KubeNamespace, "v1", ("namespace", "namespaces", "ns"),
         apply=manifests.apply_namespace, check=saved_checks.check_namespaces),
    Kind("Node", Node, "v1", ("node", "nodes", "no"),
         table=lambda cluster, namespace, wide, labels: tables.nodes_table(cluster, wide, labels),
         check=saved_checks.check_nodes, restore=NODES),
    Kind("Service", Service, "v1", ("service", "services", "svc"), apply=manifests.apply_service,
         table=lambda cluster, namespace, wide, labels: tables.services_table(
             cluster, namespace, wide),
         check=saved_checks.check_services),
    Kind("EndpointSlice", EndpointSlice, "discovery.k8s.io/v1",
         ("endpointslice", "endpointslices"),
         resource="endpointslice.discovery.k8s.io", apply=manifests.apply_endpoint_slice,
         table=lambda cluster, namespace, wide, labels: tables.endpoint_slices_table(
             cluster, namespace, wide),
         check=saved_checks.check_slices),
    Kind("KubeProxyConfiguration", KubeProxyConfiguration, "kubeproxy.config.k8s.io/v1alpha1",
         ("kubeproxyconfiguration", "kubeproxyconfigurations"),
         resource="kubeproxyconfiguration.kubeproxy.config.k8s.io",
         table=lambda cluster, namespace, wide, labels: tables.proxy_configs_table(
             cluster, namespace),
         check=saved_checks.each(validate_proxy_config)),
    Kind("ConfigMap", ConfigMap, "v1", ("configmap", "configmaps", "cm"),
         apply=manifests.apply_config_map,
         table=lambda cluster, namespace, wide, labels: tables.config_maps_table(
             cluster, namespace),
         check=saved_checks.each(validate_config_map)),
    Kind("Pod", Pod, "v1", ("pod", "pods", "po"), apply=manifests.apply_pod,
         table=tables.pods_table, check=saved_checks.check_pods),
    Kind("NetworkPolicy", NetworkPolicy, "networking.k8s.io/v1",
         ("networkpolicy", "networkpolicies", "netpol"),
         resource="networkpolicy.networking.k8s.io", apply=manifests.apply_network_policy,
         table=lambda cluster, namespace, wide, labels: tables.network_policies_table(
             cluster, namespace),
         check=saved_checks.each(validate_network_policy)),
    Kind("ReplicaSet", ReplicaSet, "apps/v1", ("replicaset", "replicasets", "rs"),
         resource="replicaset.apps",
         table=lambda cluster, namespace, wide, labels: tables.replicasets_table(
             cluster, namespace, wide),
         check=saved_checks.each(validate_replica_set)),
    Kind("Deployment", Deployment, "apps/v1", ("deployment", "deployments", "deploy"),
         resource="deployment.apps", apply=manifests.apply_deployment,
         table=lambda cluster, namespace, wide, labels: tables.deployments_table(
             cluster, namespace, wide),
         check=saved_checks.each(validate_deployment)),
    Kind("DaemonSet", DaemonSet, "apps/v1", ("daemonset", "daemonsets", "ds"),
         resource="daemonset.apps", apply=manifests.apply_daemonset,
         table=lambda cluster, namespace, wide, labels: tables.daemonsets_table(
             cluster, namespace, wide),
         check=saved_checks.each(validate_daemon_set)),
    Kind("StatefulSet", StatefulSet, "apps/v1", ("statefulset", "statefulsets", "sts"),
         resource="statefulset.apps", apply=manifests.apply_statefulset,
         table=lambda cluster, namespace, wide, labels: tables.statefulsets_table(
             cluster, namespace, wide),
         check=saved_checks.each(validate_stateful_set)),
    Kind("IPAddressPool", IPAddressPool, METALLB, ("ipaddresspool", "ipaddresspools"),
         resource="ipaddresspool.metallb.io", apply=manifests.apply_ip_address_pool,
         table=lambda cluster, namespace, wide, labels: tables.ip_address_pools_table(
             cluster, namespace),
         check=lambda found, saved, cluster_cidr: check_pools(found)),
    Kind("L2Advertisement", L2Advertisement, METALLB,
         ("l2advertisement", "l2advertisements"),
         resource="l2advertisement.metallb.io", apply=manifests.apply_l2_advertisement,
         table=lambda cluster, namespace, wide, labels: tables.l2_advertisements_table(
             cluster, namespace, wide),
         check=saved_checks.each(validate_advertisement)),
    Kind("Ingress", Ingress, "networking.k8s.io/v1", ("ingress", "ingresses", "ing"),
         resource="ingress.networking.k8s.io", apply=manifests.apply_ingress,
         table=lambda cluster, namespace, wide, labels: tables.ingresses_table(
             cluster, namespace),
         check=saved_checks.check_ingresses, restore=AFTER_DERIVED),
    Kind("ServiceAccount", ServiceAccount, "v1", ("serviceaccount", "serviceaccounts", "sa"),
         apply=gateway_manifests.apply_service_account,
         table=lambda cluster, namespace, wide, labels: gateway_tables.service_accounts_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
    Kind("Secret", Secret, "v1", ("secret", "secrets"),
         apply=gateway_manifests.apply_secret,
         table=lambda cluster, namespace, wide, labels: gateway_tables.secrets_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
    Kind("GatewayClass", GatewayClass, V1, ("gatewayclass", "gatewayclasses", "gc"),
         resource="gatewayclass.gateway.networking.k8s.io",
         apply=gateway_manifests.apply_gateway_class,
         table=lambda cluster, namespace, wide, labels: gateway_tables.gateway_classes_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
    Kind("Gateway", Gateway, V1, ("gateway", "gateways", "gtw"),
         resource="gateway.gateway.networking.k8s.io", apply=gateway_manifests.apply_gateway,
         table=lambda cluster, namespace, wide, labels: gateway_tables.gateways_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
    Kind("HTTPRoute", HTTPRoute, V1, ("httproute", "httproutes"),
         resource="httproute.gateway.networking.k8s.io",
         apply=gateway_manifests.apply_http_route,
         table=lambda cluster, namespace, wide, labels: gateway_tables.http_routes_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
    Kind("ReferenceGrant", ReferenceGrant, V1BETA1, ("referencegrant", "referencegrants",
                                                     "refgrant"),
         resource="referencegrant.gateway.networking.k8s.io",
         apply=gateway_manifests.apply_reference_grant,
         table=lambda cluster, namespace, wide, labels: gateway_tables.reference_grants_table(
             cluster, namespace),
         check=saved_checks.each(validate_stored)),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
API_VERSIONS: dict[str, str] = {kind.name: kind.api_version for kind in KINDS}
RECORDS: dict[str, type] = {kind.name: kind.record for kind in KINDS}
RESTORE_ORDER: tuple[str, ...] = tuple(BY_NAME)
KUBECTL: dict[str, Kind] = {name: kind for kind in KINDS for name in kind.names}
# the kinds a manifest may hold, with the apiVersion each must name
APPLIED: dict[str, str] = {kind.name: kind.api_version for kind in KINDS if kind.apply is not None}
LISTED: tuple[str, ...] = tuple(kind.names[1] for kind in KINDS if kind.table is not None)


def kubectl_kind(word: str) -> Kind | None:
    """The kind kubectl means by `pods`, `deploy`, `rs`, ..."""
    return KUBECTL.get(word)
