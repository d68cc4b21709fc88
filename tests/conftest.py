import pytest

from playground.cluster.lab import build_default_lab


@pytest.fixture
async def lab():
    cluster = await build_default_lab()
    yield cluster
    await cluster.stop()


@pytest.fixture
async def ptp_lab():
    cluster = await build_default_lab(cni="ptp")
    yield cluster
    await cluster.stop()


@pytest.fixture
async def vxlan_lab():
    cluster = await build_default_lab(cni="vxlan")
    yield cluster
    await cluster.stop()


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path, monkeypatch):
    """Recovery files go to a folder of each test's own, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
