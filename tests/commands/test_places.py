"""The places completion offers: only what resolves as written."""

from playground.cluster.ingress import Ingress, IngressBackend, IngressPath, IngressRule
from playground.cluster.objects import ObjectMeta
from playground.cluster.targets import resolve
from playground.commands.places import places


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
