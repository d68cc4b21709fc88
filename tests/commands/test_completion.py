"""Completion offers only what resolves as written."""

from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.objects import ObjectMeta
from playground.cluster.targets import resolve
from playground.commands.places import places
from playground.tui.completion import complete, matches


async def test_every_place_offered_resolves(lab):
    await lab.add_ingress(Ingress(ObjectMeta("front", "default"), [
        IngressRule([IngressPath(IngressBackend("web", 80), "/", "Prefix")], "web.example")]))
    await lab.settle()
    offered = places(lab)
    assert "lb/ingress-nginx/ingress-nginx-controller" in offered
    assert "lb/ingress-nginx-controller" not in offered  # the bare name is looked up in default
    assert "svc/kube-system/kube-dns" in offered and "pod/client" in offered
    for place in offered:
        resolve(lab, place)  # raises if it does not


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
