"""A ConfigMap as `kubectl get configmap NAME -o yaml` and `kubectl describe configmap`
print it (kubectl v1.31: keys sorted, a multi-line value as a literal block)."""

from __future__ import annotations

import yaml

from playground.cluster.configmap import ConfigMap


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def as_yaml(config_map: ConfigMap) -> str:
    meta = config_map.metadata
    metadata: dict = {"name": meta.name, "namespace": meta.namespace,
                      "resourceVersion": str(meta.resource_version)}
    if meta.labels:
        metadata["labels"] = dict(meta.labels)
    if meta.uid:
        metadata["uid"] = meta.uid
    document = {"apiVersion": "v1", "data": dict(config_map.data), "kind": "ConfigMap",
                "metadata": metadata}
    return yaml.dump(document, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                     width=1 << 16)


def _pairs(values: dict[str, str]) -> str:
    if not values:
        return "<none>"
    return "\n              ".join(f"{k}={v}" for k, v in sorted(values.items()))


def describe(config_map: ConfigMap) -> str:
    meta = config_map.metadata
    lines = [f"Name:         {meta.name}", f"Namespace:    {meta.namespace}",
             f"Labels:       {_pairs(meta.labels)}",
             f"Annotations:  {_pairs(meta.annotations)}", "", "Data", "===="]
    for key in sorted(config_map.data):
        lines += [f"{key}:", "----", config_map.data[key].rstrip("\n"), ""]
    lines += ["", "BinaryData", "====", "", "Events:  <none>"]
    return "\n".join(lines) + "\n"
