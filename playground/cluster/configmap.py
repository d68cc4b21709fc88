"""ConfigMap (v1): string data by key, checked as the API server checks it
(pkg/apis/core/validation ValidateConfigMap: each key a config key, all data at most 1 MiB)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playground.cluster.errors import ClusterError
from playground.cluster.objects import Named, ObjectMeta, ValidationError

KEY = re.compile(r"^[-._a-zA-Z0-9]+$")   # IsConfigMapKey
MAX_KEY = 253
MAX_SIZE = 1024 * 1024   # corev1.MaxSecretSize, also the ConfigMap's


@dataclass
class ConfigMap(Named):
    metadata: ObjectMeta
    data: dict[str, str] = field(default_factory=dict)
    kind: str = "ConfigMap"


def validate_config_map(config_map: ConfigMap) -> None:
    where = f"ConfigMap {config_map.key}"
    total = 0
    for key, value in config_map.data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationError(f"{where}: data[{key}]: Invalid value: must be a string")
        if len(key) > MAX_KEY or not KEY.match(key) or key in (".", "..") or \
                key.startswith(".."):
            raise ValidationError(f'{where}: data[{key}]: Invalid value: "{key}": a valid '
                                  "config key must consist of alphanumeric characters, '-', "
                                  "'_' or '.'")
        total += len(key) + len(value.encode())
    if total > MAX_SIZE:
        raise ValidationError(f"{where}: data: Too long: must have at most {MAX_SIZE} bytes")


class ConfigMaps:
    """The Cluster's ConfigMap method (a mixin): create one, or replace its data."""

    async def add_config_map(self, config_map: ConfigMap) -> str:
        try:
            validate_config_map(config_map)
        except ValidationError as error:
            raise ClusterError(str(error)) from None
        meta = config_map.metadata
        self.check_namespace(meta.namespace)
        there = self.api.peek("ConfigMap", meta.namespace, meta.name)
        if there is None:
            self.api.create(config_map)
            done = "created"
        elif there.data == config_map.data and there.metadata.labels == meta.labels:
            return "unchanged"
        else:
            def edit(stored: ConfigMap) -> None:
                stored.data, stored.metadata.labels = dict(config_map.data), dict(meta.labels)
            self.api.change("ConfigMap", meta.namespace, meta.name, edit)
            done = "configured"
        await self.settle()
        return done
