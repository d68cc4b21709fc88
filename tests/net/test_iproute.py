"""`ip route add` and `ip route del` on a node, with iproute2's errors."""

from __future__ import annotations

import pytest

from playground.shell import Shell, ShellError

NODE = "node/kind-worker"


async def test_delete_then_add_back_a_pod_cidr_route(lab):
    shell = Shell(lab)
    await shell.run("ip route del 10.244.2.0/24", NODE)
    assert "10.244.2.0/24" not in (await shell.run("ip route", NODE)).output
    assert (await shell.run("trace pod/client pod/web-1")).trace.verdict == "unreachable"
    await shell.run("ip route add 10.244.2.0/24 via 172.18.0.3", NODE)
    assert "10.244.2.0/24 via 172.18.0.3 dev eth0\n" in (await shell.run("ip route", NODE)).output
    assert (await shell.run("trace pod/client pod/web-1")).trace.verdict == "delivered"


@pytest.mark.parametrize(("line", "message"), [
    ("ip route add 10.244.2.0/24 via 172.18.0.3", "RTNETLINK answers: File exists"),
    ("ip route del 10.99.0.0/24", "RTNETLINK answers: No such process"),
    ("ip route add 10.99.0.0/24 via 10.1.2.3", "Error: Nexthop has invalid gateway."),
    ("ip route add 10.99.0.1/24 via 172.18.0.3", "Error: Invalid prefix for given prefix"),
    ("ip route add banana via 172.18.0.3", 'Error: inet prefix is expected rather than "banana"'),
    ("ip route add 10.99.0.0/24 dev wlan0", 'Cannot find device "wlan0"'),
    ("ip route add 10.99.0.0/24", "Error: Device for nexthop is not specified."),
    ("ip route add 10.99.0.0/24 via 172.18.0.3 color red", '"color" is a garbage'),
])
async def test_bad_route_commands_say_what_iproute2_says(lab, line, message):
    shell = Shell(lab)
    before = (await shell.run("ip route", NODE)).output
    with pytest.raises(ShellError, match=message):
        await shell.run(line, NODE)
    assert (await shell.run("ip route", NODE)).output == before


async def test_a_route_change_needs_a_selection(lab):
    with pytest.raises(ShellError, match="select a node or a pod first"):
        await Shell(lab).run("ip route del 10.244.2.0/24")
