"""kubeadm's node.kubernetes.io/exclude-from-external-load-balancers label, read as each
upstream reads it: k8s.io/cloud-provider's service controller (nodeIncludedPredicate, which
feeds the cloud's and cloud-provider-kind's load balancers) parses the value as a Go bool,
and MetalLB's speaker (IsNodeExcludedFromBalancers) only asks whether the key is there."""

from __future__ import annotations

from playground.cluster.cluster import EXCLUDE_FROM_LBS

# strconv.ParseBool's spellings; any other value does not parse and so excludes the node
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def service_controller_excludes(node) -> bool:
    """nodeIncludedPredicate, negated: the label is there and its value is not a false."""
    value = node.metadata.labels.get(EXCLUDE_FROM_LBS)
    return value is not None and value not in GO_FALSE


def speaker_excludes(node) -> bool:
    """MetalLB's check: the key alone, whatever its value."""
    return EXCLUDE_FROM_LBS in node.metadata.labels
