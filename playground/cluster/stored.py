"""Objects the API server stores as given and controllers only read (Gateway API kinds,
ServiceAccounts): their checks and their names in kubectl's messages, in one place."""

from __future__ import annotations

from playground.cluster import validation
from playground.cluster.gateway import checks
from playground.cluster.secret import secret_errors
from playground.cluster.service_account import service_account_errors

RULES = {**checks.RULES, "ServiceAccount": service_account_errors, "Secret": secret_errors}
RESOURCES = {"GatewayClass": "gatewayclasses.gateway.networking.k8s.io",
             "Gateway": "gateways.gateway.networking.k8s.io",
             "HTTPRoute": "httproutes.gateway.networking.k8s.io",
             "ReferenceGrant": "referencegrants.gateway.networking.k8s.io",
             "ServiceAccount": "serviceaccounts", "Secret": "secrets"}


def validate_stored(obj) -> None:
    validation.check(obj.kind, obj.name, RULES[obj.kind](obj))
