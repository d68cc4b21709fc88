"""CNI plugins, chosen per cluster by name."""

from playground.cni.bridge import BridgePlugin
from playground.cni.cilium import CiliumPlugin
from playground.cni.ptp import PtpPlugin
from playground.cni.vxlan import VxlanPlugin

PLUGINS = {"bridge": BridgePlugin, "ptp": PtpPlugin, "vxlan": VxlanPlugin,
           "cilium": CiliumPlugin}


def plugin(name: str):
    try:
        return PLUGINS[name]()
    except KeyError:
        raise ValueError(
            f"unknown CNI plugin {name!r}: choose one of {', '.join(PLUGINS)}"
        ) from None
