# the registries of adapters are filled before anything asks them (see adapters.py)
import playground.adapters  # noqa: F401
