"""The Cluster's NetworkPolicy methods (a mixin): create or replace one, delete, list."""

from __future__ import annotations

from playground.cluster.errors import ClusterError
from playground.cluster.netpol.model import NetworkPolicy
from playground.cluster.netpol.validate import validate_network_policy
from playground.cluster.validation import ValidationError


class NetworkPolicies:
    async def add_network_policy(self, policy: NetworkPolicy) -> str:
        """Create it, or replace the spec of the one of that name (kubectl apply); returns
        kubectl's word for what happened: created, configured or unchanged."""
        try:
            validate_network_policy(policy)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        meta = policy.metadata
        self.check_namespace(meta.namespace)
        there = self.api.peek("NetworkPolicy", meta.namespace, meta.name)
        if there is None:
            self.api.create(policy)
            done = "created"
        elif there.spec == policy.spec and there.metadata.labels == meta.labels:
            return "unchanged"
        else:
            def edit(stored: NetworkPolicy) -> None:
                stored.spec, stored.metadata.labels = policy.spec, dict(meta.labels)
            self.api.change("NetworkPolicy", meta.namespace, meta.name, edit)
            done = "configured"
        await self.settle()
        return done

    async def delete_network_policy(self, name: str, namespace: str = "default") -> None:
        await self._delete("NetworkPolicy", namespace, name)

    def network_policies(self, namespace: str | None = None) -> list[NetworkPolicy]:
        return self.api.list("NetworkPolicy", namespace)
