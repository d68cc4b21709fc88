"""The footer, keeping `?` Help and `q` Quit at every width: the keys that do not fit are
left to the command palette (ctrl+p), which lists every action."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

KEPT = ("help", "quit")  # shown whatever the width
PALETTE_ROOM = 13  # "^p palette" and its border


class KeyFooter(Footer):
    _laid_out_for = 0

    def on_resize(self) -> None:
        if self.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)

    def _room(self, key: str, description: str) -> int:
        return len(key) + len(description) + (2 if self.compact else 3)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._laid_out_for = self.size.width
        bindings = self.screen.active_bindings
        shown, actions = [], set()
        for _, binding, enabled, tooltip in bindings.values():
            if binding.show and binding.action not in actions:  # one key per action
                actions.add(binding.action)
                shown.append((binding, enabled, tooltip))
        left = (self.size.width or self.app.size.width) - PALETTE_ROOM
        left -= sum(self._room(self.app.get_key_display(b), b.description)
                    for b, _, _ in shown if b.action.removeprefix("app.") in KEPT)
        for binding, enabled, tooltip in shown:
            display = self.app.get_key_display(binding)
            if binding.action.removeprefix("app.") not in KEPT:
                left -= self._room(display, binding.description)
                if left < 0:
                    continue
            yield FooterKey(binding.key, display, binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip).data_bind(
                                compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _, binding, enabled, _ = palette
                yield FooterKey(binding.key, self.app.get_key_display(binding),
                                binding.description, binding.action,
                                classes="-command-palette", disabled=not enabled,
                                tooltip=binding.tooltip or binding.description)
