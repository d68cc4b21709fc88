"""ServiceAccount (v1): stored as given, so manifests that carry one (a Deployment's identity)
apply; the lab models no API authentication, so nothing reads it."""

from __future__ import annotations

from dataclasses import dataclass

from playground.cluster import validation
from playground.cluster.objects import Named, ObjectMeta


@dataclass
class ServiceAccount(Named):
    metadata: ObjectMeta
    kind: str = "ServiceAccount"


def service_account_errors(account: ServiceAccount) -> list[validation.FieldError]:
    meta = account.metadata
    return validation.meta_errors("ServiceAccount", account.name, meta.namespace, meta.labels,
                                  meta.annotations)
