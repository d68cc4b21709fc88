"""verify: build the lab in the kernel, send every probe there and in the model, compare."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from ipaddress import IPv4Address

from playground.cluster.cluster import Cluster
from playground.cluster.dns import programs
from playground.verify import client
from playground.verify.cleanup import KernelLab
from playground.verify.compare import Comparison, Observation, compare
from playground.verify.inside import Inside, enter
from playground.verify.ipvs_plan import ipvs_missing
from playground.verify.kernel import (
    VerifyError,
    conntrack_flush,
    conntrack_tables,
    missing_requirements,
)
from playground.verify.materialise import linux_name, plan
from playground.verify.nft_check import mismatches
from playground.verify.nft_plan import has_tables
from playground.verify.predict import predict
from playground.verify.probes import Probe, dns_records, listeners, probes
from playground.verify.queue_plan import verdict_tables
from playground.verify.report import summary, table

# Seconds a client waits: everything here is one machine's memory, so an answer comes at once
# or never. Halfway between TCP's first SYN retransmission (1 s) and its second (3 s), so the
# outcome never depends on which of a retransmission and the deadline comes first.
PROBE_TIMEOUT = 2.0


def verify(cluster: Cluster, on_result: Callable[[Comparison], None] = lambda c: None,
           lab: type[KernelLab] = KernelLab,
           rulesets: list[str] | None = None,
           keep: Callable[[Probe], bool] | None = None) -> list[Comparison]:
    """Probe the kernel lab and compare; `rulesets` (if given) gets one line per difference
    between a namespace's nftables ruleset read back from the kernel and the model's, and
    `keep` (if given) picks the probes to send."""
    cluster.wake_all()   # the kernel gets every node and pod, so the model needs them too
    built = plan(cluster.network)  # first: a lab the kernel cannot build is refused as such
    reason = missing_requirements()
    if reason is None and cluster.proxy_mode == "ipvs":
        reason = ipvs_missing()
    if reason is not None:
        raise VerifyError(f"verify {reason}")
    model = copy.deepcopy(cluster.network)  # the lab itself stays as it was
    results = []
    sent = [p for p in probes(cluster) if keep is None or keep(p)]
    records = json.dumps(dns_records(sent))
    with lab(built) as kernel:
        for name, specs in listeners(cluster).items():
            serves_dns = runs_coredns_at(cluster, name)
            kernel.start_responder(linux_name(name), name,
                                   ["--dns", records, *specs] if serves_dns else specs)
        for (name, number), verdicts in verdict_tables(
                model, {p.dport for p in sent} | container_ports(cluster),
                {p.proto for p in sent}).items():
            kernel.start_queue_program(linux_name(name), number, verdicts)
        if rulesets is not None:
            for ns in model.namespaces.values():
                if has_tables(ns):
                    rulesets += mismatches(ns, linux_name(ns.name))
        tracked = built.rule_namespaces
        conntrack_flush(list(tracked))
        for probe in sent:
            for ns in model.namespaces.values():
                ns.conntrack.flush()
            client = start_client(probe)  # the kernel works while the model thinks
            outcomes = predict(model, probe)
            observed = observe(probe, client, tracked)
            result = compare(probe, outcomes, observed)
            model = result.closest.network  # carry on from the choice the kernel made
            for outcome in outcomes:  # results keep what was compared, not 165 model copies
                outcome.network = None
            results.append(result)
            on_result(result)
    return results


def start_client(probe: Probe) -> Inside:
    """The probe sent from a thread inside the source's namespace (its sockets are that
    namespace's): no process, so no ip netns exec and interpreter start per probe."""

    def send() -> dict:
        enter(linux_name(probe.source))
        return client.probe(probe.proto, probe.sport, str(probe.dst), probe.dport,
                            PROBE_TIMEOUT, *([probe.question] if probe.question else []))

    return Inside(send)


def observe(probe: Probe, sender: Inside, tracked: dict[str, str]) -> Observation:
    """What the client saw, and the conntrack entries its probe left."""
    try:
        answer = sender.result()
    except Exception as error:
        raise VerifyError(f"the probe client in {probe.source} failed: {error}") from None
    if answer["outcome"] == "error":
        raise VerifyError(f"probe {probe.label}: {answer['error']}")
    peer = None
    if answer["outcome"] == "reached":
        address, _, port = answer["peer"].rpartition(":")
        peer = (IPv4Address(address), int(port))
    # read and empty each table, so the next probe starts from none, as the model's copy does
    tables = conntrack_tables(list(tracked), flush=True)
    entries = {model_name: tables[ns] for ns, model_name in tracked.items()}
    answered_from = None
    if "from" in answer:
        address, _, port = answer["from"].rpartition(":")
        answered_from = (IPv4Address(address), int(port))
    return Observation(answer["outcome"], answer.get("server"), peer,
                       {name: found for name, found in entries.items() if found},
                       answer.get("answer"), answered_from)


def container_ports(cluster: Cluster) -> set[int]:
    """Where a probe to a Service lands after DNAT: its endpoints' ports, and pods'."""
    return {port.container_port for pod in cluster.api.list("Pod") for _c, port in pod.ports()
            } | {port.port for found in cluster.api.list("EndpointSlice") for port in found.ports}


def runs_coredns_at(cluster: Cluster, namespace: str) -> bool:
    pod = programs.pod_at(cluster, namespace)
    return pod is not None and any(programs.runs_coredns(pod, c.name)
                                   for c in pod.spec.containers)


def verify_lab(cluster: Cluster) -> int:
    """The `verify` command: the table, a summary, and exit 1 on any mismatch."""
    rulesets: list[str] = []
    results = verify(cluster, rulesets=rulesets)
    print(table(results), end="")
    print(summary(results, cluster.cni.name), end="")
    compared = sum(1 for ns in cluster.network.namespaces.values() if has_tables(ns))
    if compared:
        print("".join(f"    - {line}\n" for line in rulesets), end="")
        print(f"nft -j list ruleset: {compared} namespaces, {len(rulesets)} "
              f"mismatch{'es' if len(rulesets) != 1 else ''} (real kernel vs model)")
    return 0 if all(result.ok for result in results) and not rulesets else 1
