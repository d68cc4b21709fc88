"""metav1.LabelSelector: matchLabels ANDed with matchExpressions, as the API matches it."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.cluster.objects import LabelSelectorRequirement, selector_text

# the label the API server puts on every Namespace (NamespaceDefaultLabelName, since 1.21)
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass
class LabelSelector:
    """An empty selector ({}) selects everything; a missing one is None at its owner."""

    match_labels: dict[str, str] = field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and \
            all(e.matches(labels) for e in self.match_expressions)

    def text(self) -> str:
        """kubectl's form (app=web,tier in (a,b)); <none> for the empty selector."""
        return selector_text(self.match_labels, self.match_expressions)

    def misses(self, labels: dict[str, str]) -> tuple[str, str]:
        """The first requirement `labels` fail and what they have instead, for "allows from
        app=api; the source has app=web" (("", "") when they match)."""
        for key, value in sorted(self.match_labels.items()):
            if labels.get(key) != value:
                return f"{key}={value}", _has(labels, key)
        for e in self.match_expressions:
            if not e.matches(labels):
                return selector_text({}, [e]), _has(labels, e.key)
        return "", ""

    def to_dict(self) -> dict:
        data: dict = {}
        if self.match_labels:
            data["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            data["matchExpressions"] = [
                {"key": e.key, "operator": e.operator,
                 **({"values": list(e.values)} if e.values else {})}
                for e in self.match_expressions]
        return data


def _has(labels: dict[str, str], key: str) -> str:
    return f"{key}={labels[key]}" if key in labels else f"no label {key}"


def namespace_labels(name: str, labels: dict[str, str]) -> dict[str, str]:
    """A Namespace's labels with the one the API server always sets to its name."""
    return {**labels, NAMESPACE_NAME_LABEL: name}
