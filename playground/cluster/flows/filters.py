"""`hubble observe`'s filters over flows: --pod, --namespace, --verdict, --to-service and
--since, each matching as the FlowFilter fields they fill do (pkg/hubble/filters)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playground.cluster.flows.observe import Flow

VERDICTS = ("FORWARDED", "DROPPED", "TRANSLATED")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


def duration(text: str) -> float:
    """A Go-style duration ('30s', '5m', '1h'; a bare number is seconds)."""
    found = _DURATION.match(text.strip())
    if found is None:
        raise ValueError(f"--since: {text!r} is not a duration like 30s, 5m or 1h")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _split(text: str, namespace: str | None) -> tuple[str, str]:
    """'ns/name' or 'name' (in --namespace, else default), as hubble's --pod takes."""
    if "/" in text:
        ns, _, name = text.partition("/")
        return ns, name
    return namespace or "default", text


@dataclass
class FlowFilter:
    pod: str | None = None
    namespace: str | None = None
    verdict: str | None = None
    to_service: str | None = None
    since: float | None = None   # seconds before `now`
    now: float = 0.0

    def __post_init__(self) -> None:
        if self.verdict is not None:
            self.verdict = self.verdict.upper()
            if self.verdict not in VERDICTS:
                raise ValueError(f"--verdict: {self.verdict!r} is not one of "
                                 f"{', '.join(VERDICTS)}")

    def matches(self, flow: Flow) -> bool:
        ends = (flow.source, flow.destination)
        if self.pod is not None:
            ns, prefix = _split(self.pod, self.namespace)
            if not any(e.pod_name and e.namespace == ns and e.pod_name.startswith(prefix)
                       for e in ends):
                return False
        elif self.namespace is not None and not any(e.namespace == self.namespace
                                                    for e in ends):
            return False
        if self.verdict is not None and flow.verdict != self.verdict:
            return False
        if self.to_service is not None:
            ns, name = _split(self.to_service, self.namespace)
            if flow.destination_service != (ns, name):
                return False
        return self.since is None or flow.time >= self.now - self.since
