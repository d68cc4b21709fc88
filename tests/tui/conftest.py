import asyncio

import pytest

from playground.cluster.lab import build_default_lab, web
from playground.saves import save_lab
from playground.session.lab import Lab

BIG_NODES, BIG_PODS = 20, 200  # past every threshold of the app, built in seconds today


async def _write_big_lab(path) -> None:
    cluster = await build_default_lab()
    try:
        for index in range(BIG_NODES):
            await cluster.add_node(f"node-{index:04d}")
        await cluster.add_deployment("crowd", web("crowd"), replicas=BIG_PODS)
        await save_lab(Lab(cluster), path)
    finally:
        await cluster.stop()


@pytest.fixture(scope="session")
def big_lab_file(tmp_path_factory):
    """A lab file of 23 nodes and 206 pods, written once per test run."""
    path = tmp_path_factory.mktemp("big") / "big.k8slab"
    asyncio.run(_write_big_lab(path))
    return str(path)
