"""The table of kinds holds each kind's apiVersion once: manifests are checked against it
and exported YAML names it."""

import pytest
import yaml

from playground.cluster.kinds import API_VERSIONS, APPLIED, KINDS
from playground.cluster.kube_yaml import manifests
from playground.cluster.lab import web
from playground.cluster.validation import type_errors

# the group/version Kubernetes v1.31 serves each kind in (`kubectl api-resources`: core v1,
# apps/v1, discovery.k8s.io/v1, networking.k8s.io/v1)
UPSTREAM = {"Namespace": "v1", "Node": "v1", "Service": "v1", "Pod": "v1", "ConfigMap": "v1",
            "EndpointSlice": "discovery.k8s.io/v1", "ReplicaSet": "apps/v1",
            "Deployment": "apps/v1", "DaemonSet": "apps/v1", "StatefulSet": "apps/v1",
            "Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
            "ServiceAccount": "v1", "Secret": "v1",
            # the Gateway API CRDs (gateway-api v1.5.1, standard channel)
            "GatewayClass": "gateway.networking.k8s.io/v1",
            "Gateway": "gateway.networking.k8s.io/v1",
            "HTTPRoute": "gateway.networking.k8s.io/v1",
            "ReferenceGrant": "gateway.networking.k8s.io/v1beta1",
            # kube-proxy's component config, not served by the API server: a file kubeadm
            # keeps in the kube-proxy ConfigMap
            "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
            # MetalLB's CRDs (v0.16.1), served while the metallb provider runs
            "IPAddressPool": "metallb.io/v1beta1", "L2Advertisement": "metallb.io/v1beta1"}


def test_every_kind_names_the_group_version_kubernetes_serves_it_in():
    assert {kind.name: kind.api_version for kind in KINDS} == UPSTREAM


@pytest.mark.parametrize("kind", sorted(APPLIED))
def test_a_manifest_kind_is_checked_against_its_own_api_version(kind):
    assert type_errors(API_VERSIONS[kind], kind, APPLIED) is None
    wrong = "v1" if API_VERSIONS[kind] != "v1" else "apps/v1"
    assert type_errors(wrong, kind, APPLIED) == \
        f'no matches for kind "{kind}" in version "{wrong}" (it is {API_VERSIONS[kind]})'


async def test_exported_yaml_names_each_kinds_api_version(lab):
    await lab.add_namespace("shop")
    await lab.add_deployment("shop", web(), namespace="shop")
    documents = list(yaml.safe_load_all(manifests(lab)))
    assert {"Namespace", "Pod", "Deployment", "Service"} <= {d["kind"] for d in documents}
    assert all(d["apiVersion"] == API_VERSIONS[d["kind"]] for d in documents)
