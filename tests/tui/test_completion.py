"""Tab completion of the `:` line: commands, their words, and the lab's own names."""

from playground.tui.completion import complete


def test_ipvs_commands_complete(lab):
    assert complete("ipv", lab) == "ipvsadm"
    assert complete("ipvsadm -Lnc"[:10], lab) == "ipvsadm -Ln"
    assert complete("ipset l", lab) == "ipset list"
    assert complete("ipset list KUBE-CL", lab) == "ipset list KUBE-CLUSTER-IP"
    assert complete("lab new --proxy-mode ip", lab) == "lab new --proxy-mode iptables"
    assert complete("lab new --proxy-mode ipv", lab) == "lab new --proxy-mode ipvs"
