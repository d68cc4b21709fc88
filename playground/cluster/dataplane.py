"""A dataplane: which CNI plugin wires the pods and which kube-proxy mode programs Services.

Written `CNI[/PROXY_MODE]` (`ptp`, `bridge/ipvs`, `cilium`) wherever a user names one: the
CLI's `--compare`, the app's `:compare`, the guided labs. Parsed and checked here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.cluster.cluster import Cluster, replaces_kube_proxy
from playground.registry import CNI_PLUGINS, PROXY_MODES

DEFAULT_PROXY_MODE = "iptables"


def proxy_modes() -> tuple[str, ...]:
    """The kube-proxy modes a Cluster can run."""
    return tuple(PROXY_MODES)


@dataclass(frozen=True, slots=True)
class Dataplane:
    cni: str
    proxy_mode: str = DEFAULT_PROXY_MODE

    def __str__(self) -> str:
        if self.proxy_mode == DEFAULT_PROXY_MODE:
            return self.cni
        return f"{self.cni}/{self.proxy_mode}"

    @classmethod
    def parse(cls, text: str) -> Dataplane:
        """`CNI[/PROXY_MODE]`; ValueError in one line naming what was wrong."""
        cni, slash, mode = text.strip().partition("/")
        if not cni:
            raise ValueError(f"dataplane {text!r}: write CNI[/PROXY_MODE], e.g. ptp or "
                             f"bridge/{DEFAULT_PROXY_MODE}")
        if cni not in CNI_PLUGINS:
            raise ValueError(f"dataplane {text!r}: unknown CNI {cni!r}; choose one of "
                             f"{', '.join(CNI_PLUGINS)}")
        if slash and mode not in proxy_modes():
            raise ValueError(f"dataplane {text!r}: unknown kube-proxy mode {mode!r}; choose "
                             f"one of {', '.join(proxy_modes())}")
        if slash and replaces_kube_proxy(cni) and mode != DEFAULT_PROXY_MODE:
            raise ValueError(f"dataplane {text!r}: {cni} replaces kube-proxy, so it takes no "
                             "kube-proxy mode")
        return cls(cni, mode or DEFAULT_PROXY_MODE)

    @classmethod
    def of(cls, cluster: Cluster) -> Dataplane:
        return cls(cluster.cni.name, getattr(cluster, "proxy_mode", DEFAULT_PROXY_MODE))

    def settings(self, settings: dict) -> dict:
        """A lab file's settings map moved onto this dataplane; the rest stays as it was. A
        lab file names the proxy mode only when it is not the default."""
        changed = dict(settings, cni=self.cni)
        changed.pop("proxy_mode", None)
        if self.proxy_mode != DEFAULT_PROXY_MODE:
            changed["proxy_mode"] = self.proxy_mode
        return changed


def choices() -> list[str]:
    """Every spec a user can write, for completion and help."""
    return [str(Dataplane(cni, mode)) for cni in CNI_PLUGINS for mode in proxy_modes()
            if mode == DEFAULT_PROXY_MODE or not replaces_kube_proxy(cni)]
