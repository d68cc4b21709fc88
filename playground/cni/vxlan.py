"""The `vxlan` plugin, as flannel's vxlan backend sets nodes up: pods on a cni0 bridge
(the bridge plugin flannel delegates to), with the MTU the tunnel leaves them.

The tunnel itself (flannel.1, its routes, neighbour and forwarding entries) belongs to
flanneld on each node: playground/cluster/controllers/flannel.py.
"""

from __future__ import annotations

from playground.cni.bridge import BridgePlugin
from playground.net import vxlan
from playground.net.netns import Namespace


class VxlanPlugin(BridgePlugin):
    name = "vxlan"
    routing = "flannel"
    policy = "none"   # flannel enforces no NetworkPolicy
    net_name = "cbr0"   # kube-flannel-cfg's cni-conf.json: flannel, then portmap

    def mtu(self, node_ns: Namespace) -> int:
        """flanneld writes FLANNEL_MTU = the node link's MTU less the VXLAN overhead."""
        return node_ns.device("eth0").mtu - vxlan.OVERHEAD
