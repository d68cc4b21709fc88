"""The Service proxies a lab can run, by the name `--proxy-mode` takes."""

from __future__ import annotations

from playground.proxy.iptables import KubeProxy
from playground.proxy.ipvs import IpvsProxy

PROXY_MODES = {"iptables": KubeProxy, "ipvs": IpvsProxy}


def proxy_class(mode: str):
    """The controller kube-proxy runs as on every node in this mode."""
    try:
        return PROXY_MODES[mode]
    except KeyError:
        raise ValueError(f"proxy mode {mode!r}: choose one of "
                         f"{', '.join(PROXY_MODES)}") from None
