"""NetworkPolicy engines, one module each, registered by name in playground/adapters.py."""
