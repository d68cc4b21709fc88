"""`trace ... --pcap FILE` and `traffic ... --pcap FILE`, read back by Wireshark's own
tshark: every frame decodes, checksums verify, interfaces and comments as written."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from playground.cli import main
from playground.pcap_export import write_pcap


@pytest.fixture
def tshark():
    found = shutil.which("tshark")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the capture tests must run in CI, but tshark is not installed")
        pytest.skip("tshark is not installed (apt-get install tshark)")
    return found


def fields(tshark: str, path, *names: str, display: str = "") -> list[list[str]]:
    argv = [tshark, "-r", str(path), "-T", "fields", "-E", "separator=\t",
            "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE", "-d", "udp.port==8472,vxlan"]
    if display:
        argv += ["-Y", display]
    for name in names:
        argv += ["-e", name]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_a_traced_dns_query_reads_back_hop_by_hop(tshark, tmp_path, capsys):
    path = tmp_path / "dns.pcapng"
    assert main(["trace", "pod/client", "svc/kube-system/kube-dns", "--proto", "udp",
                 "--reply", "--pcap", str(path)]) == 0
    assert "frames" in capsys.readouterr().err
    rows = fields(tshark, path, "frame.interface_name", "ip.src", "ip.dst", "udp.dstport",
                  "ip.checksum.status", "udp.checksum.status", "frame.comment")
    assert len(rows) > 10
    for interface, _src, _dst, _port, ip_ok, udp_ok, comment in rows:
        assert ip_ok == "1" and udp_ok == "1", comment   # 1: Good
        where = interface.partition(":")[0]
        assert "hop " in comment and f" {where} " in comment
    assert rows[0][0] == "pod/default/client:eth0"
    assert {r[0] for r in rows} >= {"node/kind-worker:cni0", "node/kind-worker:eth0"}
    # the filter the README names: the frames before the DNAT and after the reply's un-DNAT
    service = fields(tshark, path, "frame.comment", display="ip.addr == 10.96.0.10")
    assert service and len(service) < len(rows)
    assert any("hop 1 pod/default/client route" in r[0] for r in service)


def test_a_vxlan_trace_decodes_the_inner_frame(tshark, tmp_path):
    path = tmp_path / "vxlan.pcapng"
    assert main(["trace", "pod/client", "pod/web-1", "--cni", "vxlan", "--pcap",
                 str(path)]) == 0
    rows = fields(tshark, path, "vxlan.vni", "ip.dst", "tcp.checksum.status",
                  display="vxlan")
    assert rows and all(r[0] == "1" and r[1] == "172.18.0.3,10.244.2.2" and r[2] == "1"
                        for r in rows)


def test_traffic_writes_every_connection(tshark, tmp_path):
    path = tmp_path / "many.pcapng"
    assert main(["traffic", "pod/client", "svc/web", "--count", "3", "--pcap",
                 str(path)]) == 0
    comments = [r[0] for r in fields(tshark, path, "frame.comment")]
    assert {c.split(",")[0] for c in comments} == {"packet 1", "packet 2", "packet 3"}


def test_a_file_that_cannot_be_written_is_one_line(tmp_path, capsys):
    assert main(["trace", "pod/client", "svc/web", "--pcap",
                 str(tmp_path / "no" / "such" / "x.pcapng")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the capture" in err


def test_nothing_to_write_is_said():
    from playground.cluster.errors import ClusterError
    with pytest.raises(ClusterError, match="no packet to write"):
        write_pcap("x.pcapng", [])
