"""`k8s-playground verify` and `export --shell` from the command line."""

from playground.cli import main
from playground.verify.materialise import PREFIX


def test_verify_prints_a_row_per_probe_and_a_summary(kernel, capsys):
    assert main(["verify", "--cni", "ptp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PROBE ")
    assert "pod/default/client → svc/default/web tcp/80" in out
    # 81 probes of packets, 24 DNS queries (6 pods × 3 Services and a missing name) and
    # one query over TCP from each pod
    # kindnet's nodes carry kube-network-policies' nftables table, read back unchanged
    assert out.endswith("111 probes, 0 mismatches (ptp CNI, real kernel vs model)\n"
                        "nft -j list ruleset: 3 namespaces, 0 mismatches (real kernel vs "
                        "model)\n")


def test_verify_refuses_with_one_line_where_it_cannot_run(monkeypatch, capsys):
    monkeypatch.setattr("playground.verify.run.missing_requirements",
                        lambda: "needs root (network namespaces and iptables)")
    assert main(["verify"]) == 2
    assert capsys.readouterr().err == (
        "error: verify needs root (network namespaces and iptables)\n")


def test_export_shell_writes_the_commands_of_a_lab_file(tmp_path, capsys):
    import asyncio

    from playground.cluster.lab import build_default_lab
    from playground.saves import save_lab
    from playground.session.lab import Lab

    path = tmp_path / "lab.k8slab"

    async def save_default_lab():
        lab = Lab(await build_default_lab())
        await save_lab(lab, path)
        await lab.close()

    asyncio.run(save_default_lab())
    assert main(["export", str(path), "--shell"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/bin/sh\n")
    assert f"ip netns add {PREFIX}node_kind-worker\n" in script
    assert main(["export", str(path), "--shell", "--yaml"]) == 2
