"""`nft` on the `:` line and `k8s-playground show nft`: the real tool's output and errors."""

import json

import pytest

from playground.cli import main
from playground.shell import Shell, ShellError

NODE = "node/kind-worker"


async def test_nft_on_the_command_line_changes_and_lists_a_node(lab):
    shell = Shell(lab)
    for line in ("nft add table inet filter",
                 "nft add chain inet filter input { type filter hook input priority 0 ; }",
                 'nft add rule inet filter input tcp dport 22 counter accept comment "ssh in"'):
        assert (await shell.run(line, NODE)).changed
    listed = (await shell.run("nft -a list table inet filter", NODE)).output
    assert listed.startswith("table inet filter { # handle 1\n\tchain input { # handle 1\n")
    assert '\t\ttcp dport 22 counter packets 0 bytes 0 accept comment "ssh in" # handle 2\n' \
        in listed
    document = json.loads((await shell.run("nft -j list ruleset", NODE)).output)
    assert document["nftables"][1] == {"table": {"family": "inet", "name": "filter",
                                                 "handle": 1}}
    assert (await shell.run("nft list ruleset", "node/kind-worker2")).output == ""


async def test_nft_errors_are_one_line_and_change_nothing(lab):
    shell = Shell(lab)
    await shell.run("nft add table ip t", NODE)
    with pytest.raises(ShellError) as caught:
        await shell.run("nft add rule ip t nosuch accept", NODE)
    assert str(caught.value) == "Error: Could not process rule: No such file or directory"
    assert (await shell.run("nft list ruleset", NODE)).output == "table ip t {\n}\n"


def test_show_nft_prints_the_ruleset_and_its_json(capsys):
    assert main(["show", "nft", NODE]) == 0
    out, _ = capsys.readouterr()
    assert out == ""   # nothing of kube-proxy here until a proxy mode writes nftables
    assert main(["show", "nft", NODE, "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["nftables"][0]["metainfo"]["version"] == "1.0.6"


async def test_nft_changes_come_back_with_a_saved_lab(lab, tmp_path):
    from playground.saves import load_lab, save_lab
    from playground.session.lab import Lab

    original = Lab(lab)
    for line in ("nft add table ip t",
                 "nft add chain ip t fwd-drop { type filter hook forward priority 0 ; }",
                 "nft add rule ip t fwd-drop tcp dport 8080 drop"):
        await original.run(line, NODE)
    with pytest.raises(ShellError):
        await original.run("nft add rule ip t nosuch drop", NODE)
    path = tmp_path / "nft.k8slab"
    await save_lab(original, path)
    loaded = await load_lab(path)
    try:
        listing = (await loaded.run("nft list ruleset", NODE)).output
        assert listing == (await original.run("nft list ruleset", NODE)).output
        assert "tcp dport 8080 drop" in listing
    finally:
        await loaded.close()
