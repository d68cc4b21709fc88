"""Adapters by the name a user writes (CNI plugins, their node-to-node routing, proxy modes,
load-balancer providers, NetworkPolicy engines, Gateway controllers). The control plane
looks them up here and never imports them; playground/adapters.py, above both, fills these
registries (a new adapter: its own module and one line there)."""

from __future__ import annotations


class Registry(dict):
    """Recipes (or plugins) by the name a user writes; an unknown name gets one line."""

    def __init__(self, what: str, entries: dict[str, type] | None = None) -> None:
        super().__init__(entries or {})
        self.what = what

    def register(self, adapter: type) -> type:
        """Add `adapter` under its own `name`; registration order is the order shown."""
        self[adapter.name] = adapter
        return adapter

    def __contains__(self, name) -> bool:
        """A name from a file may be anything, a map too: then it is simply not known."""
        try:
            return super().__contains__(name)
        except TypeError:
            return False

    def get(self, name, default=None):
        try:
            return super().get(name, default)
        except TypeError:
            return default

    def find(self, name: str) -> type:
        try:
            return self[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.what} {name!r}: choose one of "
                             f"{', '.join(self)}") from None


CNI_PLUGINS = Registry("CNI plugin")
CNI_META_PLUGINS = Registry("CNI meta plugin")   # chained after a plugin in its conflist
ROUTINGS = Registry("CNI routing")     # by a CNI plugin's `routing`
PROXY_MODES = Registry("proxy mode")   # by the name `--proxy-mode` takes
LB_PROVIDERS = Registry("load-balancer provider")
POLICY_ENGINES = Registry("NetworkPolicy engine")   # by a CNI plugin's `policy`
GATEWAY_CONTROLLERS = Registry("Gateway controller")   # by controllerName
