"""Tab completion of the : line knows the cilium views and every CNI."""

from playground.tui.completion import complete


def test_cilium_views_complete_word_by_word(lab):
    assert complete("cil", lab) == "cilium"
    assert complete("cilium b", lab) == "cilium bpf"
    assert complete("cilium bpf c", lab) == "cilium bpf ct"
    assert complete("cilium bpf ct list g", lab) == "cilium bpf ct list global"
    assert complete("cilium s", lab) == "cilium service"
    assert complete("lab new --cni ci", lab) == "lab new --cni cilium"
