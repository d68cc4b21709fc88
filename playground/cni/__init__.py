"""CNI plugins, chosen per cluster by name (a new plugin: its module and one line here)."""

from playground.cni.bridge import BridgePlugin
from playground.cni.cilium import CiliumPlugin, CiliumTunnelPlugin
from playground.cni.portmap import PortMapPlugin
from playground.cni.ptp import PtpPlugin
from playground.cni.vxlan import VxlanPlugin
from playground.registry import Registry

PLUGINS = Registry("CNI plugin", {"bridge": BridgePlugin, "ptp": PtpPlugin,
                                  "vxlan": VxlanPlugin, "cilium": CiliumPlugin,
                                  "cilium-vxlan": CiliumTunnelPlugin})


# meta plugins a conflist chains after the main one
META = Registry("CNI meta plugin", {"portmap": PortMapPlugin})


def plugin(name: str):
    return PLUGINS.find(name)()
