"""Every dataplane the lab offers, each CNI with each proxy mode it takes, read from the
registry: a proxy mode or CNI registered in playground/adapters.py joins every test that
takes the `dataplane` fixture (tests/conftest.py) or samples these."""

from playground.cluster.dataplane import Dataplane, choices

DATAPLANES = [Dataplane.parse(spec) for spec in choices()]
