"""The table of `:` commands: one entry per command, found by its words and aliases, and the
one place the shell, the journal, lab files, help and the CLI learn what a command is."""

import importlib

import pytest

from playground.commands import kubectl, table
from playground.commands.base import Command, ShellResult
from playground.commands.table import COMMANDS, find, next_words, not_found, replayed
from playground.shell import Shell, ShellError
from playground.tui.help import commands_text


def test_every_command_is_found_by_its_own_name_and_names_are_unique():
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names))
    for command in COMMANDS:
        assert find([*command.words, "x"]) is command


@pytest.mark.parametrize("line, name", [
    ("ip r add 10.0.0.0/8 via 1.2.3.4", "ip route add"),
    ("ip ro delete 10.0.0.0/8", "ip route del"),
    ("ip route", "ip route"),
    ("ip -details l show flannel.1", "ip -d link show"),
    ("kubectl create svc clusterip web --tcp=80", "kubectl create service"),
    ("kubectl create deploy web --image=nginx", "kubectl create deployment"),
    ("conntrack -L", "conntrack -L"),
])
def test_aliases_and_the_longest_name_pick_the_command(line, name):
    assert find(line.split()).name == name


def test_the_journal_replays_what_lives_in_the_dataplane_only():
    assert {c.name for c in COMMANDS if c.replayed} == {
        "trace", "reply", "traffic", "ip route add", "ip route del", "sysctl -w",
        "nft add", "nft create", "nft insert", "nft replace", "nft delete", "nft flush",
        "dig", "nslookup"}  # their queries leave conntrack entries and CoreDNS caches
    assert replayed(["ip", "r", "del", "10.0.0.0/8"]) and not replayed(["ip", "route"])
    assert replayed(["nft", "add", "table", "ip", "t"])
    assert not replayed(["nft", "list", "ruleset"]) and not replayed(["nft", "-f", "x.nft"])
    assert not replayed(["kubectl", "delete", "pod", "web-1"]) and not replayed([])


def test_a_line_no_command_fits_says_what_exists_there():
    assert not_found(["rm", "-rf"]).startswith("unknown command 'rm': try kubectl, node,")
    assert not_found(["kubectl", "frobnicate"]) == (
        "kubectl frobnicate: not supported here (run, create, expose, set, rollout, patch, scale, "
        "delete, cordon, uncordon, drain, label, describe, get, apply)")
    assert not_found(["bridge", "fdb"]) == "bridge fdb: only `bridge fdb show [dev NAME]` " \
        "is modelled here"
    assert not_found(["kubectl"]).startswith("kubectl: say what to do (run, create,")


def test_next_words_follow_the_table():
    assert next_words(["kubectl", "create"]) == ["deployment", "service", "ingress"]
    assert next_words(["ip"]) == ["route", "-d", "link", "neigh"]


async def test_a_new_command_is_one_entry(lab, monkeypatch):
    """A command not in the table yet (`kubectl taint`): one entry, and the shell,
    completion and help know it."""
    def status(shell, call):
        return ShellResult(f"tainted {' '.join(call.args)}\n")

    entry = Command("kubectl taint", "NODE", "taint a node", status)
    monkeypatch.setattr(kubectl, "COMMANDS", (*kubectl.COMMANDS, entry))
    importlib.reload(table)  # the table gathers the families' entries when it is built
    try:
        assert (await Shell(lab).run("kubectl taint kind-worker")).output == \
            "tainted kind-worker\n"
        assert "taint" in next_words(["kubectl"])
        assert "kubectl taint NODE" in commands_text()
    finally:
        monkeypatch.undo()
        importlib.reload(table)
    assert find(["kubectl", "taint"]) is None


async def test_the_app_commands_are_refused_by_the_shell(lab):
    with pytest.raises(ShellError, match="a command of the app"):
        await Shell(lab).run("save my.k8slab")


@pytest.mark.dataplanes("vxlan")
async def test_ip_link_shows_details_only_with_d(dataplane_lab):
    shell = Shell(dataplane_lab)
    plain = (await shell.run("ip l show flannel.1", "node/kind-worker")).output
    detailed = (await shell.run("ip -d link show flannel.1", "node/kind-worker")).output
    assert "vxlan id 1" in detailed and "vxlan id 1" not in plain
