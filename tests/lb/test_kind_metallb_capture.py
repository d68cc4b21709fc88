"""A real kind + MetalLB cluster rebuilt as a lab, its kube-proxy NAT rules compared line by
line with what that cluster printed.

The capture: github.com/Paulo-Rogerio/kubernetes-certifications, CKA/learning/k8s.md
(section "Debug ( LoadBalancer )"): a kind cluster (v1.31.2, kube-proxy in iptables mode,
pod CIDR 10.244.0.0/16) with MetalLB, `kubectl create deployment --image nginx --replicas 3
nginx` and `kubectl expose deployment nginx --type=LoadBalancer --port=80 --target-port=80`;
`kubectl get svc` showed CLUSTER-IP 10.109.124.25, EXTERNAL-IP 172.18.255.201, PORT(S)
80:30606/TCP, and `iptables-save` on a node was grepped for the address and the two chains.

The lab is given that Service as `kubectl get svc nginx -o yaml` has it (clusterIP, nodePort,
and the address as loadBalancerIP). Renaming, the only one: the pods' addresses are the pod
IPAM's (and where they run the scheduler's) to give, so the lab's three endpoints are renamed
to the capture's three in address order, and each KUBE-SEP chain to the capture's chain for
that endpoint (with the Cluster policy every node has the same rules wherever they run).
KUBE-SVC-/KUBE-EXT- names, comments, matches and probabilities are not renamed."""

from __future__ import annotations

import re
from ipaddress import IPv4Address

from playground.cli import main
from playground.proxy.rules import chain_hash

MANIFEST = """\
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec: {addresses: [172.18.255.200-172.18.255.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, labels: {app: nginx}}
spec:
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec: {containers: [{name: nginx, image: nginx}]}
---
apiVersion: v1
kind: Service
metadata: {name: nginx, labels: {app: nginx}}
spec:
  type: LoadBalancer
  clusterIP: 10.109.124.25
  loadBalancerIP: 172.18.255.201
  selector: {app: nginx}
  ports: [{port: 80, protocol: TCP, targetPort: 80, nodePort: 30606}]
"""

# what the cluster printed, one `egrep PATTERN /tmp/iptables` after another
CAPTURED = {
    "172.18.255.201": """\
-A KUBE-SERVICES -d 172.18.255.201/32 -p tcp -m comment --comment "default/nginx loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-2CMXP7HKUVJN7L6M""",  # noqa: E501
    "KUBE-EXT-2CMXP7HKUVJN7L6M": """\
:KUBE-EXT-2CMXP7HKUVJN7L6M - [0:0]
-A KUBE-EXT-2CMXP7HKUVJN7L6M -m comment --comment "masquerade traffic for default/nginx external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-2CMXP7HKUVJN7L6M -j KUBE-SVC-2CMXP7HKUVJN7L6M
-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "default/nginx" -m tcp --dport 30606 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j KUBE-EXT-2CMXP7HKUVJN7L6M
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/nginx" -m tcp --dport 30606 -j KUBE-EXT-2CMXP7HKUVJN7L6M
-A KUBE-SERVICES -d 172.18.255.201/32 -p tcp -m comment --comment "default/nginx loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-2CMXP7HKUVJN7L6M""",  # noqa: E501
    "KUBE-SVC-2CMXP7HKUVJN7L6M": """\
:KUBE-SVC-2CMXP7HKUVJN7L6M - [0:0]
-A KUBE-EXT-2CMXP7HKUVJN7L6M -j KUBE-SVC-2CMXP7HKUVJN7L6M
-A KUBE-SERVICES -d 10.109.124.25/32 -p tcp -m comment --comment "default/nginx cluster IP" -m tcp --dport 80 -j KUBE-SVC-2CMXP7HKUVJN7L6M
-A KUBE-SVC-2CMXP7HKUVJN7L6M ! -s 10.244.0.0/16 -d 10.109.124.25/32 -p tcp -m comment --comment "default/nginx cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 10.244.1.5:80" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-IZW656N5ZXYN5BEC
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 10.244.1.6:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-C4VXQDW52UV45WW3
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 10.244.2.6:80" -j KUBE-SEP-UOZCNMEBPO5JGMU4""",  # noqa: E501
}
CHOICE = re.compile(r'"default/nginx -> (\d+\.\d+\.\d+\.\d+):80" .*-j (KUBE-SEP-\w+)')


def endpoints(text: str) -> dict[str, str]:
    """Each endpoint's address and its KUBE-SEP chain, from the KUBE-SVC chain's rules."""
    return dict(CHOICE.findall(text))


def renaming(lab_text: str) -> dict[str, str]:
    """Lab endpoint -> captured endpoint, both in address order; and each lab KUBE-SEP
    chain -> the captured chain of the endpoint it was renamed to."""
    ours, theirs = endpoints(lab_text), endpoints(CAPTURED["KUBE-SVC-2CMXP7HKUVJN7L6M"])
    assert len(ours) == len(theirs) == 3
    names: dict[str, str] = {}
    pairs = zip(sorted(ours, key=IPv4Address), sorted(theirs, key=IPv4Address), strict=True)
    for lab_ip, real_ip in pairs:
        names[lab_ip] = real_ip
        names[ours[lab_ip]] = theirs[real_ip]
    return names


def renamed(text: str, names: dict[str, str]) -> str:
    pattern = re.compile("|".join(re.escape(k) + r"(?![\d\w])" for k in
                                  sorted(names, key=len, reverse=True)))
    return pattern.sub(lambda m: names[m.group(0)], text)


def test_the_kind_metallb_cluster_prints_the_same_kube_lines(tmp_path, capsys):
    path = tmp_path / "nginx.yaml"
    path.write_text(MANIFEST)
    assert main(["show", "iptables", "node/kind-worker", "--table", "nat", "--lb", "metallb",
                 "-f", str(path)]) == 0
    shown = capsys.readouterr().out
    saved = renamed(shown, renaming(shown)).splitlines()
    for pattern, captured in CAPTURED.items():
        assert [line for line in saved if re.search(pattern, line)] == \
            captured.splitlines(), pattern
    # and the packet from outside enters through the node whose speaker answered the ARP
    assert main(["trace", "internet", "lb/nginx", "--lb", "metallb", "-f", str(path)]) == 0
    trace = capsys.readouterr().out
    owner = re.search(r"answered \(metallb speaker on ([\w-]+)\)", trace).group(1)
    entered = re.search(r"^\s*\d+\s+node/([\w-]+)\s+recv", trace, re.M).group(1)
    assert entered == owner and owner != "kind-control-plane"   # kubeadm's label


def test_the_endpoint_chains_are_named_as_kube_proxy_named_them():
    """The renaming of KUBE-SEP chains hides nothing: the lab's hash of the captured
    endpoints gives the captured names."""
    for ip, chain in endpoints(CAPTURED["KUBE-SVC-2CMXP7HKUVJN7L6M"]).items():
        assert chain == "KUBE-SEP-" + chain_hash("default/nginx", "tcp", f"{ip}:80")
    assert "KUBE-SVC-" + chain_hash("default/nginx", "tcp") == "KUBE-SVC-2CMXP7HKUVJN7L6M"
