"""Load-balancer providers: who gives LoadBalancer Services their addresses and carries their
traffic to the nodes, chosen per cluster by name (a new provider: its module and one line
here). A provider is a Recipe (playground.cluster.recipe) with a `pool`, the network its
addresses come from, against which a Service's loadBalancerIP is checked."""

from playground.lb.cloud import CloudProvider
from playground.registry import Registry

PROVIDERS = Registry("load-balancer provider", {"cloud": CloudProvider})
DEFAULT_PROVIDER = "cloud"
