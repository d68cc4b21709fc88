"""Write saves/: one lab file per scenario, built from code, the crowd of Services and
the NetworkPolicy lessons' manifests.

Run `python -m playground.tools.make_saves`. The files are committed; a test checks that
this script still makes them byte for byte.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playground.labs.dns_scenarios import MANIFESTS as DNS_MANIFESTS
from playground.labs.migration import migration_manifest
from playground.labs.netpol_scenarios import MANIFESTS
from playground.labs.scenarios import SCENARIOS, crowd_manifest
from playground.saves import SUFFIX, pack_lab, write_atomically

SAVES = Path("saves")  # run from the repository's root, as the README says


async def lab_bytes(scenario) -> bytes:
    lab = await scenario.build()
    try:
        return pack_lab(lab)
    finally:
        await lab.close()


async def make(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in SCENARIOS:
        path = folder / f"{scenario.id}{SUFFIX}"
        write_atomically(path, await lab_bytes(scenario), keep_backup=False)
        written.append(path)
    crowd = folder / "service-crowd.yaml"
    write_atomically(crowd, crowd_manifest().encode(), keep_backup=False)
    written.append(crowd)
    for name, text in {**MANIFESTS, **DNS_MANIFESTS}.items():   # what lessons apply
        write_atomically(folder / name, text.encode(), keep_backup=False)
        written.append(folder / name)
    migration = folder / "ingress-to-gateway.yaml"
    write_atomically(migration, await ingress_migration(), keep_backup=False)
    return [*written, migration]


async def ingress_migration() -> bytes:
    """The ingress scenario's Ingress, translated to a Gateway and HTTPRoutes."""
    lab = await next(s for s in SCENARIOS if s.id == "ingress").build(with_flow=False)
    try:
        return migration_manifest(lab.cluster.ingresses()[0]).encode()
    finally:
        await lab.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else SAVES
    for path in asyncio.run(make(folder)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
