"""A dataplane: which CNI plugin wires the pods, which kube-proxy mode programs Services and
which provider serves LoadBalancers.

Written `CNI[/PROXY_MODE][+LB]` (`ptp`, `bridge/ipvs`, `cilium`, `bridge+metallb`) wherever a
user names one: the CLI's `--compare`, the app's `:compare`, the guided labs. Parsed and
checked here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.cluster.cluster import Cluster, replaces_kube_proxy
from playground.registry import CNI_PLUGINS, LB_PROVIDERS, PROXY_MODES

DEFAULT_PROXY_MODE = "iptables"
DEFAULT_LB = "cloud"


def proxy_modes() -> tuple[str, ...]:
    """The kube-proxy modes a Cluster can run."""
    return tuple(PROXY_MODES)


@dataclass(frozen=True, slots=True)
class Dataplane:
    cni: str
    proxy_mode: str = DEFAULT_PROXY_MODE
    lb: str = DEFAULT_LB

    def __str__(self) -> str:
        text = self.cni if self.proxy_mode == DEFAULT_PROXY_MODE else \
            f"{self.cni}/{self.proxy_mode}"
        return text if self.lb == DEFAULT_LB else f"{text}+{self.lb}"

    @classmethod
    def parse(cls, text: str) -> Dataplane:
        """`CNI[/PROXY_MODE][+LB]`; ValueError in one line naming what was wrong."""
        planes, plus, lb = text.strip().partition("+")
        if plus and lb not in LB_PROVIDERS:
            raise ValueError(f"dataplane {text!r}: unknown load-balancer provider {lb!r}; "
                             f"choose one of {', '.join(LB_PROVIDERS)}")
        cni, slash, mode = planes.partition("/")
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
        return cls(cni, mode or DEFAULT_PROXY_MODE, lb or DEFAULT_LB)

    @classmethod
    def of(cls, cluster: Cluster) -> Dataplane:
        lb = getattr(getattr(cluster, "lb", None), "name", DEFAULT_LB)
        return cls(cluster.cni.name, getattr(cluster, "proxy_mode", DEFAULT_PROXY_MODE), lb)

    def settings(self, settings: dict) -> dict:
        """A lab file's settings map moved onto this dataplane; the rest stays as it was. A
        lab file names the proxy mode only when it is not the default."""
        changed = dict(settings, cni=self.cni)
        changed.pop("proxy_mode", None)
        if self.proxy_mode != DEFAULT_PROXY_MODE:
            changed["proxy_mode"] = self.proxy_mode
        changed.pop("lb", None)
        if self.lb != DEFAULT_LB:
            changed["lb"] = self.lb
        return changed


def choices() -> list[str]:
    """Every spec a user can write, for completion and help."""
    planes = [str(Dataplane(cni, mode)) for cni in CNI_PLUGINS for mode in proxy_modes()
              if mode == DEFAULT_PROXY_MODE or not replaces_kube_proxy(cni)]
    return planes + [f"bridge+{lb}" for lb in LB_PROVIDERS if lb != DEFAULT_LB]
