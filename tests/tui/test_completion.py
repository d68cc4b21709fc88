"""Tab completion of the `:` line: commands, their words, and the lab's own names."""

from playground.tui.completion import complete


def test_cilium_views_complete_word_by_word(lab):
    assert complete("cil", lab) == "cilium"
    assert complete("cilium b", lab) == "cilium bpf"
    assert complete("cilium bpf c", lab) == "cilium bpf ct"
    assert complete("cilium bpf ct list g", lab) == "cilium bpf ct list global"
    assert complete("cilium s", lab) == "cilium service"
    assert complete("lab new --cni ci", lab) == "lab new --cni cilium"


def test_ipvs_commands_complete(lab):
    assert complete("ipv", lab) == "ipvsadm"
    assert complete("ipvsadm -Lnc"[:10], lab) == "ipvsadm -Ln"
    assert complete("ipset l", lab) == "ipset list"
    assert complete("ipset list KUBE-CL", lab) == "ipset list KUBE-CLUSTER-IP"
    assert complete("lab new --proxy-mode ip", lab) == "lab new --proxy-mode iptables"
    assert complete("lab new --proxy-mode ipv", lab) == "lab new --proxy-mode ipvs"
