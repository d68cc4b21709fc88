"""Load-balancer providers: who gives LoadBalancer Services their addresses and carries their
traffic to the nodes, chosen per cluster by name (a new provider: its module and one line
here)."""

from playground.lb.cloud import CloudProvider
from playground.registry import Registry

PROVIDERS = Registry("load-balancer provider", {"cloud": CloudProvider})
DEFAULT_PROVIDER = "cloud"
