"""Tab completion of the `:` line: commands, their words, and the lab's own names."""

from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.objects import ObjectMeta
from playground.tui.completion import complete, matches


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


async def test_lb_completes_across_namespaces(lab):
    await lab.add_ingress(Ingress(ObjectMeta("front", "default"), [
        IngressRule([IngressPath(IngressBackend("web", 80), "/", "Prefix")], "web.example")]))
    await lab.settle()
    assert complete("trace internet lb/", lab) == \
        "trace internet lb/ingress-nginx/ingress-nginx-controller"


def test_a_container_completes_after_the_colon_only(lab):
    assert matches("trace pod/app:s", lab) == ["trace pod/app:sidecar"]
    assert matches("trace pod/app:", lab) == ["trace pod/app:app", "trace pod/app:sidecar"]
    assert matches("trace pod/ap", lab) == ["trace pod/app"]


def test_every_match_is_offered_in_order(lab):
    assert matches("trace pod/web", lab) == ["trace pod/web-1", "trace pod/web-2"]
    assert matches("kubectl delete pod w", lab) == ["kubectl delete pod web-1",
                                                    "kubectl delete pod web-2"]
