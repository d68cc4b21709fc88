"""How each guided lab is done: the command lines per task, and the node they run on.
Shared by the lesson tests and the app's tests."""

from pathlib import Path

from playground.labs.catalogue import INGRESS_LB

SAVES = Path(__file__).resolve().parents[1] / "saves"

# lesson -> task -> the command lines that do it, with the node they run on
SOLUTIONS = {
    "flat-network": {"pod-to-pod": [("trace pod/client pod/web-1", None)],
                     "node-to-pod": [("trace node/kind-worker pod/web-1", None)]},
    "container-to-container": {
        "localhost": [("trace pod/app:sidecar 127.0.0.1 --port 8080", None)],
        "own-address": [("trace pod/app:sidecar pod/app:app", None)]},
    "pod-to-pod-same-node": {"across-the-bridge": [("trace pod/client pod/web-2", None)],
                             "reply": [("reply", None)]},
    "pod-to-pod-across-nodes": {"across": [("trace pod/client pod/web-1", None)],
                                "reply": [("reply", None)]},
    "cni-ptp": {"routed": [("trace pod/client pod/web-2", None)]},
    "cni-vxlan": {"tunnel": [("trace pod/client pod/web-1", None)],
                  "full": [("trace pod/client pod/web-1 --size 1450 --df", None)],
                  "too-big": [("trace pod/client pod/web-1 --size 1451 --df", None)]},
    "pod-to-service": {"dnat": [("trace pod/client svc/web", None)],
                       "reply": [("reply", None)]},
    "dns": {"short-name": [("trace pod/client web", None)],
            "outside": [("trace pod/client example.com:443", None)],
            "long-name": [("trace pod/client http://web.default.svc.cluster.local/", None)],
            "trailing-dot": [("trace pod/client web.default.svc.cluster.local.:80", None)]},
    "dns-down": {"see-reject": [("trace pod/client web", None)],
                 "scale-up": [("kubectl scale deployment coredns -n kube-system --replicas=2",
                               None)],
                 "works": [("trace pod/client web", None)]},
    "dns-typo": {"see-nxdomain": [("trace pod/client http://wbe/", None)],
                 "fix": [(f"kubectl apply -f {SAVES / 'dns-typo-fix.yaml'}", None)],
                 "works": [("trace pod/client http://web/", None)]},
    "egress": {"out": [("trace pod/client internet", None)], "back": [("reply", None)]},
    "loadbalancer": {"cluster": [("trace internet lb/shop-cluster", None)],
                     "local": [("trace internet lb/shop-local", None)]},
    "lb-providers": {
        "cluster": [("trace internet lb/shop-cluster", None)],
        "local": [("trace internet lb/shop-local", None)],
        "cloud": [("trace internet lb/shop-cluster", None), ("compare bridge", None)],
        "envoy": [("trace internet lb/shop-local", None),
                  ("compare bridge+cloud-provider-kind", None)],
        "move": [("kubectl label node kind-worker2 "   # the address's speaker, by its hash
                  "node.kubernetes.io/exclude-from-external-load-balancers=true", None),
                 ("trace internet lb/shop-cluster", None)]},
    "ingress": {"blog": [(f"trace internet {INGRESS_LB} --host blog.example.com", None)],
                "docs": [(f"trace internet {INGRESS_LB} --host docs.example.com", None)]},
    "netpol-namespaces": {
        "deny": [(f"kubectl apply -f {SAVES / 'netpol-deny-shop.yaml'}", None)],
        "allow": [(f"kubectl apply -f {SAVES / 'netpol-allow-frontend.yaml'}", None)],
        "trace": [("trace pod/frontend/web pod/shop/api", None)]},
    "netpol-and-or": {
        "or": [(f"kubectl apply -f {SAVES / 'netpol-or.yaml'}", None)],
        "and": [(f"kubectl apply -f {SAVES / 'netpol-and.yaml'}", None)]},
    "netpol-service-port": {
        "deny": [(f"kubectl apply -f {SAVES / 'netpol-deny-shop.yaml'}", None)],
        "service-port": [(f"kubectl apply -f {SAVES / 'netpol-service-port.yaml'}", None),
                         ("trace pod/frontend/web svc/shop/api", None)],
        "pod-port": [(f"kubectl apply -f {SAVES / 'netpol-pod-port.yaml'}", None)]},
    "netpol-egress": {
        "deny": [(f"kubectl apply -f {SAVES / 'netpol-deny-egress.yaml'}", None)],
        "dns": [(f"kubectl apply -f {SAVES / 'netpol-allow-dns.yaml'}", None)]},
    "netpol-no-effect": {
        "delivered": [("trace pod/client pod/web-1", None)],
        "enforcing": [("trace pod/client pod/web-1", None), ("compare ptp", None)]},
    "gateway-migration": {
        "ingress": [(f"trace internet {INGRESS_LB} --host blog.example.com", None)],
        "apply": [(f"kubectl apply -f {SAVES / 'ingress-to-gateway.yaml'}", None)],
        "blog": [("trace internet gw/sites --host blog.example.com", None)],
        "docs": [("trace internet gw/sites --host docs.example.com", None)]},
    "iptables-at-scale": {
        "ten": [("trace pod/client svc/web", None)],
        "nftables-ten": [("compare bridge/nftables", None)],
        "crowd": [(f"kubectl apply -f {SAVES / 'service-crowd.yaml'}", None)],
        "again": [("trace pod/client svc/web", None)],
        "nftables-crowd": [("compare bridge/nftables", None)]},
    "ipvs-to-nftables": {
        "ipvs": [("trace pod/client svc/web", None)],
        "migrate": [("compare bridge/nftables", None)],
        "node": [("trace node/kind-worker svc/web", None), ("compare bridge/nftables", None)]},
    "compare-dataplanes": {
        "same-node": [("trace pod/client pod/web-2", None), ("compare ptp", None)],
        "service": [("trace pod/client svc/web", None), ("compare ptp", None)],
        "load-balancer": [("trace internet lb/shop-cluster", None), ("compare ptp", None)],
        "overlay": [("trace pod/client pod/web-1", None), ("compare vxlan", None)],
        "socket-lb": [("trace pod/client svc/web", None), ("compare cilium", None)],
        "ipvs": [("trace pod/client svc/web", None), ("compare bridge/ipvs", None)]},
    "broken-selector": {
        "see-reject": [("trace pod/client svc/shop", None)],
        "fix-selector": [("kubectl set selector service shop app=shop", None)],
        "works": [("trace pod/client svc/shop", None)]},
    "cilium": {
        "socket-lb": [("trace pod/client svc/web", None)],
        "reply": [("reply", None)],
        "lb-cluster": [("trace internet lb/shop-cluster", None)],
        "lb-local": [("trace internet lb/shop-local", None)]},
    "missing-route": {
        "find": [("trace pod/client pod/web-1", None)],
        "repair": [("ip route add 10.244.2.0/24 via 172.18.0.3", "node/kind-worker")],
        "works": [("trace pod/client pod/web-1", None)]},
}


async def run_step(lab, line: str, node: str | None) -> None:
    """One line of a solution, headless: `compare` goes where the app sends it."""
    if line.startswith("compare "):
        from playground.dataplanes import compare_line

        await compare_line(lab, line)
    else:
        await lab.run(line, node)
