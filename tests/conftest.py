import os

import pytest
from planes import DATAPLANES

from playground.cluster.dataplane import Dataplane
from playground.cluster.lab import build_default_lab


def pytest_configure(config):
    # under pytest-xdist each worker builds its own kernel namespaces, with its own prefix
    # (playground.verify.materialise reads it when the verify tests import it)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")
    if worker:
        base = os.environ.get("K8S_PLAYGROUND_VERIFY_PREFIX", "kpv-").rstrip("-")
        os.environ["K8S_PLAYGROUND_VERIFY_PREFIX"] = f"{base[:8 - len(worker)]}{worker}-"
    config.addinivalue_line("markers", "dataplanes(*specs): run a test taking the `dataplane` "
                            "fixture on these dataplanes only (CNI[/PROXY_MODE])")


def pytest_generate_tests(metafunc):
    """`dataplane`: every dataplane the registry offers, or those a `dataplanes` mark names."""
    if "dataplane" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("dataplanes")
        planes = [Dataplane.parse(spec) for spec in marker.args] if marker else DATAPLANES
        metafunc.parametrize("dataplane", planes, ids=str)


@pytest.fixture
async def lab():
    cluster = await build_default_lab()
    yield cluster
    await cluster.stop()


@pytest.fixture
async def dataplane_lab(dataplane):
    """The default lab on each dataplane (see pytest_generate_tests)."""
    cluster = await build_default_lab(cni=dataplane.cni, proxy_mode=dataplane.proxy_mode)
    yield cluster
    await cluster.stop()


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path, monkeypatch):
    """Recovery files go to a folder of each test's own, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
