"""Adapters by the name a user writes (CNI plugins, proxy modes, load-balancer providers):
a dict that answers an unknown name with one line listing the known ones."""

from __future__ import annotations


class Registry(dict):
    """Recipes (or plugins) by the name a user writes; an unknown name gets one line."""

    def __init__(self, what: str, entries: dict[str, type]) -> None:
        super().__init__(entries)
        self.what = what

    def find(self, name: str) -> type:
        try:
            return self[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.what} {name!r}: choose one of "
                             f"{', '.join(self)}") from None
