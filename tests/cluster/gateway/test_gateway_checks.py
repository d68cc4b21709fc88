"""The API server's checks of Gateway API objects (the v1.5.1 CRDs' markers and CEL rules):
one line naming the field."""

import pytest

from playground.cluster.gateway.checks import validate
from playground.cluster.gateway.objects import (
    BackendRef,
    Gateway,
    GatewayClass,
    HTTPRoute,
    Listener,
    PathMatch,
    PathModifier,
    RouteFilter,
    RouteMatch,
    RouteRule,
)
from playground.cluster.objects import ObjectMeta, ValidationError


def gateway(*listeners):
    return Gateway(ObjectMeta("eg", "default"), "eg", list(listeners))


def route(*rules, hostnames=()):
    return HTTPRoute(ObjectMeta("r", "default"), [], list(hostnames), list(rules))


def refused(obj) -> str:
    with pytest.raises(ValidationError) as error:
        validate(obj)
    return str(error.value)


def test_the_quickstart_objects_pass():
    validate(GatewayClass(ObjectMeta("eg"), "gateway.envoyproxy.io/gatewayclass-controller"))
    validate(gateway(Listener("http", 80, "HTTP")))
    validate(route(RouteRule(backend_refs=[BackendRef("backend", 3000)]),
                   hostnames=["www.example.com"]))


@pytest.mark.parametrize("obj, line", [
    (GatewayClass(ObjectMeta("eg"), "envoy"),
     'The GatewayClass "eg" is invalid: spec.controllerName: Invalid value: "envoy": '
     "spec.controllerName in body should match"),
    (gateway(),
     "spec.listeners: Invalid value: 0: spec.listeners in body should have at least 1 items"),
    (gateway(Listener("http", 0, "HTTP")),
     "spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body should be "
     "greater than or equal to 1"),
    (gateway(Listener("a", 80, "HTTP"), Listener("a", 81, "HTTP")),
     'spec.listeners: Invalid value: "array": Listener name must be unique within the '
     "Gateway"),
    (gateway(Listener("a", 80, "HTTP"), Listener("b", 80, "HTTP")),
     "Combination of port, protocol and hostname must be unique for each listener"),
    (gateway(Listener("t", 9000, "TCP", "db.example.com")),
     "hostname must not be specified for protocols ['TCP', 'UDP']"),
    (gateway(Listener("http", 80, "HTTP", "Shop.Example.com")),
     'spec.listeners[0].hostname: Invalid value: "Shop.Example.com"'),
    (route(RouteRule([RouteMatch(PathMatch("Prefix", "/"))])),
     'spec.rules[0].matches[0].path.type: Unsupported value: "Prefix": supported values: '
     '"Exact", "PathPrefix", "RegularExpression"'),
    (route(RouteRule([RouteMatch(PathMatch("Exact", "shop"))])),
     "spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute "
     "path and start with '/'"),
    (route(RouteRule([RouteMatch(PathMatch("PathPrefix", "/a//b"))])),
     "must not contain '//'"),
    (route(RouteRule(backend_refs=[BackendRef("backend")])),
     'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service '
     "reference"),
    (route(RouteRule(backend_refs=[BackendRef("backend", 80, weight=-1)])),
     "spec.rules[0].backendRefs[0].weight: Invalid value: -1"),
    (route(RouteRule(filters=[RouteFilter("RequestRedirect", scheme="https")],
                     backend_refs=[BackendRef("backend", 80)])),
     "RequestRedirect filter must not be used together with backendRefs"),
    (route(RouteRule([RouteMatch(PathMatch("Exact", "/a"))], filters=[RouteFilter(
        "URLRewrite", path=PathModifier("ReplacePrefixMatch", "/b"))])),
     "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix "
     "match must be specified"),
    (route(RouteRule(), hostnames=["*"]), 'spec.hostnames[0]: Invalid value: "*"'),
])
def test_what_the_crds_refuse_is_named(obj, line):
    assert line in refused(obj)
