"""Hostile and careless command lines: each is one line naming what was wrong, and the lab
is exactly as it was (its objects, every namespace's tables, the random source)."""

from __future__ import annotations

import pytest
from lab_state import lab_state

from playground.limits import MAX_COMMAND_LINE, MAX_PODS
from playground.shell import Shell, ShellError


@pytest.fixture
async def shell(lab):
    shell = Shell(lab)
    await shell.run("kubectl create deployment shop --image=nginx --replicas=2 --port=80")
    return shell


SUPERSCRIPT_TWO, ARABIC_EIGHTY = "8\u00b2", "\u0668\u0660"

REFUSED = {
    # Unicode digits pass str.isdigit() and used to crash int()
    "create service port": (f"kubectl create service clusterip x --tcp={SUPERSCRIPT_TWO}",
                            "is not a whole number"),
    "create service target": (f"kubectl create service nodeport x --tcp=80:{SUPERSCRIPT_TWO}",
                              "is not a whole number"),
    "expose target port": (f"kubectl expose deployment shop --port=80 "
                           f"--target-port={SUPERSCRIPT_TWO}",
                           'The Service "shop" is invalid: [spec.ports[0].targetPort: Invalid '
                           f'value: "{SUPERSCRIPT_TWO}": must contain only alpha-numeric'),
    "ingress backend port": (f"kubectl create ingress i --rule=a/=shop:{SUPERSCRIPT_TWO}",
                             "backend.service.port.name: Invalid value"),
    "trace port": (f"trace pod/client svc/web --port {SUPERSCRIPT_TWO}", "not a whole number"),
    "trace arabic port": (f"trace pod/client svc/web --port {ARABIC_EIGHTY}",
                          "not a whole number"),
    "service port by text": (f"trace pod/client svc/web:{SUPERSCRIPT_TWO}", "has no port"),
    "route metric": (f"ip route add 10.9.0.0/16 dev eth0 metric {SUPERSCRIPT_TWO}",
                     '"metric" value is invalid'),
    "replicas": (f"kubectl scale deployment shop --replicas={ARABIC_EIGHTY}",
                 "not a whole number"),
    # limits
    "scale past the nodes": ("kubectl scale deployment shop --replicas=600",
                             "598 more pods do not fit"),
    "scale past the lab": (f"kubectl scale deployment shop --replicas={MAX_PODS + 1}",
                           "out of range"),
    "a huge deployment": ("kubectl create deployment big --image=nginx --replicas=100000",
                          "100000 more pods do not fit"),
    "traffic count": ("traffic pod/client svc/web --count 100000000", "out of range (1-10000)"),
    "a very long line": ("kubectl get pods " + "x" * MAX_COMMAND_LINE,
                         f"more than the {MAX_COMMAND_LINE} a command may have"),
    "a very long number": ("kubectl scale deployment shop --replicas=" + "9" * 10_000,
                           "more than the"),
    # what the API server refuses
    "service name with a digit first": ("kubectl create service clusterip 1web --tcp=80",
                                        'The Service "1web" is invalid: metadata.name: Invalid '
                                        'value: "1web": a DNS-1035 label must consist of'),
    "empty image": ("kubectl run box --image=", 'The Pod "box" is invalid: '
                                                "spec.containers[0].image: Required value"),
    "container port 0": ("kubectl run box --image=busybox --port=0", "out of range (1-65535)"),
    "bad label key": ("kubectl run box --image=busybox --labels=a@b=c",
                      'metadata.labels: Invalid value: "a@b": name part must consist of'),
    "long label value": ("kubectl run box --image=busybox --labels=a=" + "v" * 64,
                         "must be no more than 63 characters"),
    "bad selector": ("kubectl set selector service web 'a b=c'",
                     'The Service "web" is invalid: spec.selector: Invalid value: "a b"'),
    "policy on a ClusterIP Service": (
        "kubectl patch service web -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'",
        'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
        "externally-accessible services"),
    "source ranges on a ClusterIP Service": (
        "kubectl patch service web -p '{\"spec\":{\"loadBalancerSourceRanges\":"
        "[\"10.0.0.0/8\"]}}'",
        "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is "
        "'LoadBalancer'"),
    "a namespace that does not exist": ("kubectl run box --image=busybox -n nowhere",
                                        'namespaces "nowhere" not found'),
    # sysctl: only the keys the model knows, with their ranges
    "sysctl nonsense value": ("sysctl -w net.ipv4.ip_forward=banana",
                              'setting key "net.ipv4.ip_forward": Invalid argument'),
    "sysctl out of range": ("sysctl -w net.bridge.bridge-nf-call-iptables=7",
                            "Invalid argument"),
    "sysctl unknown key": ("sysctl -w kernel.panic=1", "cannot stat /proc/sys/kernel/panic"),
}


@pytest.mark.parametrize("line, message", REFUSED.values(), ids=REFUSED.keys())
async def test_refused_in_one_line_and_nothing_changes(shell, lab, line, message):
    before = lab_state(lab)
    with pytest.raises(ShellError) as error:
        await shell.run(line, "node/kind-worker")
    text = str(error.value)
    assert message in text and "\n" not in text
    assert lab_state(lab) == before


async def test_sysctl_values_are_written_as_the_kernel_reads_them(shell, lab):
    result = await shell.run("sysctl -w net.ipv4.ip_forward=01", "node/kind-worker")
    assert result.output == "net.ipv4.ip_forward = 1\n"


async def test_scale_within_the_nodes_still_works(shell, lab):
    await shell.run("kubectl scale deployment shop --replicas=5")
    assert len([p for p in lab.pods() if p.name.startswith("shop-")]) == 5
