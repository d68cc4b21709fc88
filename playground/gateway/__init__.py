"""Gateway API controllers, each an adapter found by its controllerName."""
