"""`python -m playground.tools.bench_ui FILE`: the app's two figures on a lab file."""

import pytest

from playground.tools.bench_ui import measure_ui


@pytest.mark.parametrize("figure", ["ui_first_frame", "ui_key"])
async def test_the_ui_benchmark_reports_both_figures(figure):
    figures = {f["figure"]: f for f in await measure_ui("saves/pod-to-service.k8slab",
                                                       presses=1)}
    assert set(figures[figure]) == {"figure", "nodes", "pods", "services", "seconds",
                                    "peak_rss_mb"}
    assert figures[figure]["nodes"] == 3 and figures[figure]["seconds"] > 0
