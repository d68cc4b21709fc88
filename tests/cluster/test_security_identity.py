"""Security identities from label sets: which labels count, the namespace's labels, the
same number for the same set, reserved and CIDR identities."""

from ipaddress import IPv4Network

from playground.cluster.security_identity import IdentityAllocator, pod_labels, split


def test_the_label_set_of_a_pod():
    labels = pod_labels({"app": "web", "pod-template-hash": "5d4f", "kubernetes.io/x": "1",
                         "app.kubernetes.io/name": "shop"}, "shop", {
                             "kubernetes.io/metadata.name": "shop", "team": "red"}, "")
    assert labels == ("k8s:app.kubernetes.io/name=shop", "k8s:app=web",
                      "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
                      "k8s:io.cilium.k8s.namespace.labels.team=red",
                      "k8s:io.cilium.k8s.policy.cluster=default",
                      "k8s:io.cilium.k8s.policy.serviceaccount=default",
                      "k8s:io.kubernetes.pod.namespace=shop")
    assert split(labels) == ({"app": "web", "app.kubernetes.io/name": "shop"}, "shop",
                             {"kubernetes.io/metadata.name": "shop", "team": "red"})


def test_one_number_per_label_set_stable_across_allocators():
    first, second = IdentityAllocator(), IdentityAllocator()
    web = pod_labels({"app": "web"}, "default", {}, "")
    api = pod_labels({"app": "api"}, "default", {}, "")
    number = first.allocate(web)
    assert first.allocate(web) == number and 256 <= number <= 65535
    assert first.allocate(api) != number
    assert second.allocate(api) == first.allocate(api) and second.allocate(web) == number
    first.release_unused({number})
    assert first.labels_of(number) == list(web) and api not in first.by_labels


def test_reserved_and_cidr_identities():
    allocator = IdentityAllocator()
    assert allocator.labels_of(1) == ["reserved:host"]
    assert allocator.labels_of(7) == ["reserved:kube-apiserver", "reserved:remote-node"]
    assert allocator.cidr(IPv4Network("0.0.0.0/0")) == 2
    block = allocator.cidr(IPv4Network("192.168.0.0/16"))
    assert block == (1 << 24) + 1 and allocator.cidr(IPv4Network("192.168.0.0/16")) == block
    assert allocator.labels_of(block) == ["cidr:192.168.0.0/16", "reserved:world"]
