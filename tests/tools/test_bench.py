"""`python -m playground.tools.bench --quick`: one JSON line per figure and size, with the keys the
issue asks for (CI runs it; it checks that it runs, not how fast)."""

from __future__ import annotations

import asyncio
import json

from playground.tools import bench

KEYS = {"figure", "nodes", "pods", "services", "seconds", "peak_rss_mb"}


def test_quick_prints_every_figure_for_every_size_as_json(capsys):
    bench.main(["--quick", "--traces", "3"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(set(record) >= KEYS for record in records)
    figures = [record["figure"] for record in records]
    for figure in ("build", "trace", "scale_settle", "show_iptables", "save", "load",
                   "load_trace", "ui_first_frame", "ui_key"):
        assert figures.count(figure) == len(bench.QUICK)
    first_traces = [record for record in records if record["figure"] == "load_trace"]
    assert all(record["woken"] == 2 for record in first_traces)  # client's and server's
    growth = [record for record in records if record["figure"] == "trace_growth"]
    assert len(growth) == len(bench.QUICK) - 1 and growth[0]["ratio"] > 0
    assert {record["nodes"] for record in records} == {size.nodes for size in bench.QUICK}
    walks = {(r["proxy_mode"], r["services"]): r["rules_walked"] for r in records
             if r["figure"] == "rules_walked"}
    low, high = bench.QUICK_WALKS
    assert walks[("iptables", high)] - walks[("iptables", low)] == high - low
    assert walks[("nftables", high)] == walks[("nftables", low)]


def test_nftables_mode_lists_the_nft_ruleset_instead_of_iptables_save():
    records: list[dict] = []
    asyncio.run(bench.run([bench.BASE], 3, lambda text: records.append(json.loads(text)),
                          walks=(), proxy_mode="nftables"))   # the flag, not the figures
    figures = [record["figure"] for record in records]
    assert "show_iptables" not in figures and figures.count("trace") == 1  # or it raised
    [shown] = [record for record in records if record["figure"] == "show_nft"]
    assert shown["lines"] > 20
