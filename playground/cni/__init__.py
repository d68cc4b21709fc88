"""CNI plugins, chosen per cluster by name."""

from playground.cni.bridge import BridgePlugin
from playground.cni.cilium import CiliumPlugin
from playground.cni.ptp import PtpPlugin

PLUGINS = {"bridge": BridgePlugin, "ptp": PtpPlugin, "cilium": CiliumPlugin}


def plugin(name: str):
    try:
        return PLUGINS[name]()
    except KeyError:
        raise ValueError(
            f"unknown CNI plugin {name!r}: choose one of {', '.join(PLUGINS)}"
        ) from None
