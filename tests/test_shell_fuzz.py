"""Fuzzing the `:` command line: words a learner might type, pieces of real commands and
hostile text, in any order. Every line either runs or is one ShellError line; nothing else
escapes, and a refused line leaves the lab as it was."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lab_state import lab_state

from playground.cluster.lab import build_default_lab
from playground.shell import Shell, ShellError

VERBS = ["kubectl run box --image=busybox", "kubectl create deployment d --image=nginx",
         "kubectl create service clusterip s", "kubectl create service nodeport s",
         "kubectl create ingress i", "kubectl expose deployment d", "kubectl expose pod web-1",
         "kubectl set selector service web", "kubectl patch service web -p",
         "kubectl scale deployment d", "kubectl delete pod", "kubectl get pods", "kubectl apply",
         "trace pod/client", "traffic pod/client svc/web", "ip route add", "ip route del",
         "sysctl -w", "node add", "node remove", "reply", "iptables-save -t", "conntrack -L",
         "ipvsadm", "ipset list", "cilium bpf", "bridge fdb show dev", "lab new --seed"]
PIECES = ["--port=", "--port", "--replicas=", "--tcp=", "--target-port=", "--rule=",
          "--count", "--labels=", "-n", "--image=", "metric", "dev", "via", "=", ":", "/",
          "svc/web", "pod/web-1", "10.244.1.0/24", "eth0", "net.ipv4.ip_forward=",
          "'{\"spec\":{}}'", "\"", "'", "\\", "8\u00b2", "\u0668\u0660", "\uff18", "-1", "0",
          "65536", "99999999999999999999999", "a=b", "a b=c", "\x00", "\n", "\u202e", "*",
          "example.com/*=web:80", "{", "[", "%s", "$(id)"]
WORD = st.one_of(st.sampled_from(PIECES), st.text(max_size=12),
                 st.from_regex(r"[a-z0-9=:/.\-]{1,12}", fullmatch=True))
LINE = st.builds(lambda verb, words, glue: verb + " " + glue.join(words),
                 st.sampled_from(VERBS), st.lists(WORD, max_size=6), st.sampled_from([" ", ""]))


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, min_size=1, max_size=6))
def test_a_line_runs_or_is_one_clear_error(lines):
    asyncio.run(_run_all(lines))


async def _run_all(lines: list[str]) -> None:
    lab = await build_default_lab()
    shell = Shell(lab)
    try:
        for line in lines:
            before = lab_state(lab) if not line.startswith("lab new") else None
            try:
                await shell.run(line, "node/kind-worker")
            except ShellError as error:
                assert "\n" not in str(error), line
                if before is not None:
                    assert lab_state(shell.cluster) == before, line
    finally:
        await shell.cluster.stop()
