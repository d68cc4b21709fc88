"""Adapters by the name a user writes (CNI plugins, proxy modes, load-balancer providers):
a dict that answers an unknown name with one line listing the known ones."""

from __future__ import annotations


class Registry(dict):
    """Recipes (or plugins) by the name a user writes; an unknown name gets one line."""

    def __init__(self, what: str, entries: dict[str, type]) -> None:
        super().__init__(entries)
        self.what = what

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
