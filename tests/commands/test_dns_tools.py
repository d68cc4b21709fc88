"""dig, nslookup and cat /etc/resolv.conf on the `:` line, in the real tools' formats."""

import pytest

from playground.commands.base import ShellError
from playground.shell import Shell


async def run(lab, line, selected="pod/client"):
    return await Shell(lab).run(line, selected)


async def test_cat_resolv_conf_is_what_kubelet_writes_for_cluster_first(lab):
    result = await run(lab, "cat /etc/resolv.conf")
    assert result.output == ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                             "nameserver 10.96.0.10\noptions ndots:5\n")
    node = await run(lab, "cat /etc/resolv.conf", "node/kind-worker")
    assert node.output == "nameserver 203.0.113.53\n"


async def test_dig_prints_as_dig_does_and_sends_its_query_through_the_lab(lab):
    result = await run(lab, "dig web.default.svc.cluster.local")
    web = lab.api.peek("Service", "default", "web").spec.cluster_ip
    lines = result.output.splitlines()
    assert lines[1] == "; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> web.default.svc.cluster.local"
    assert ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" in lines
    assert ";web.default.svc.cluster.local.\tIN\tA" in lines
    assert f"web.default.svc.cluster.local. 30 IN\tA\t{web}" in lines
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)" in lines
    assert [t.verdict for t in result.traces] == ["delivered", "delivered"]


async def test_dig_without_search_asks_for_the_bare_name(lab):
    result = await run(lab, "dig web")
    assert ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN" in result.output
    assert "+search" not in result.output
    found = await run(lab, "dig web +search +short")
    assert found.output == lab.api.peek("Service", "default", "web").spec.cluster_ip + "\n"


async def test_dig_srv_ptr_and_nxdomain(lab):
    srv = await run(lab, "dig _http._tcp.web.default.svc.cluster.local SRV +short")
    assert srv.output == "0 100 80 web.default.svc.cluster.local.\n"
    ip = lab.api.peek("Service", "default", "web").spec.cluster_ip
    ptr = await run(lab, f"dig -x {ip} +short")
    assert ptr.output == "web.default.svc.cluster.local.\n"
    missing = await run(lab, "dig nope.default.svc.cluster.local")
    assert "status: NXDOMAIN" in missing.output
    assert "cluster.local.\t\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local." \
        in missing.output


async def test_dig_with_coredns_scaled_to_0_is_refused_three_times(lab):
    await lab.scale("coredns", 0, "kube-system")
    await lab.advance(31)  # their grace period: then kube-dns has no endpoints
    result = await run(lab, "dig web.default.svc.cluster.local")
    assert result.output.splitlines()[:3] == [
        ";; communications error to 10.96.0.10#53: connection refused"] * 3
    assert result.output.endswith(";; no servers could be reached\n")


async def test_nslookup_walks_the_search_list_and_reports_nxdomain(lab):
    result = await run(lab, "nslookup web")
    web = lab.api.peek("Service", "default", "web").spec.cluster_ip
    assert result.output == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
                             f"Name:\tweb.default.svc.cluster.local\nAddress: {web}\n\n")
    asked = [leg.message.question[0] for leg in result.legs if leg.role == "dns"]
    assert [q.rdtype for q in asked] == [1, 28]  # A, then AAAA
    missing = await run(lab, "nslookup nope")
    assert missing.output.endswith("** server can't find nope: NXDOMAIN\n\n")


@pytest.mark.parametrize("line,message", [
    ("dig", "dig: say what to look up"),
    ("dig web +trace", "dig: +trace: only @SERVER"),
    ("dig @kube-dns web", "couldn't get address for 'kube-dns'"),
    ("dig -x 300.1.1.1", "not a legal IPv4"),
    ("cat /etc/hosts", "only /etc/resolv.conf"),
    ("nslookup", "nslookup NAME [SERVER]"),
])
async def test_bad_lines_are_one_clear_error(lab, line, message):
    with pytest.raises(ShellError, match=message.replace("+", r"\+").replace("[", r"\[")
                       .replace("]", r"\]")):
        await run(lab, line)


async def test_dns_tools_need_a_selection(lab):
    with pytest.raises(ShellError, match="select a pod or a node"):
        await run(lab, "dig web", None)


async def test_a_trace_to_a_name_that_does_not_resolve_says_so_last(lab):
    result = await run(lab, "trace pod/client nope")
    assert result.output.endswith("could not resolve nope: NXDOMAIN, after 4 answers\n")
    assert len(result.traces) == 10  # four questions and answers, and "nope." forwarded out
