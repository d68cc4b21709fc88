"""The guided labs, one per idea of the seed, and two to repair. Text in our own words."""

from __future__ import annotations

from playground.cluster.gateway.status import gateway_view
from playground.gateway.envoy_gateway import NAMESPACE as ENVOY_NAMESPACE
from playground.labs import checks as c
from playground.labs import compare_checks as cc
from playground.labs.lesson import Lesson, Task
from playground.labs.scenarios import INGRESS_LB

CROWD_SIZE = 10_000  # Services after saves/service-crowd.yaml: Kubernetes' documented limit

LESSONS = (
    Lesson(
        "flat-network", "The flat network",
        "every pod has its own address and reaches any other pod without NAT",
        "Kubernetes asks one thing of the network: each pod gets an address of its own, and "
        "any pod can reach any other pod, and any node, at that address. Nothing in between "
        "changes the source or the destination. Here client runs on kind-worker and web-1 "
        "on kind-worker2. Send a packet and look at the addresses at every hop: they stay "
        "the same from one end to the other.",
        "flat-network",
        (Task("pod-to-pod", "Send a packet from pod/client to pod/web-1 and see it arrive "
              "with its addresses untouched.",
              "trace pod/client pod/web-1",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.untranslated)),
         Task("node-to-pod", "Send one from the node kind-worker itself to pod/web-1.",
              "trace node/kind-worker pod/web-1",
              lambda lab: c.traced(lab, "node/kind-worker", "pod/web-1", "delivered",
                                   c.untranslated))),
    ),
    Lesson(
        "container-to-container", "Containers of one pod",
        "the containers of a pod share one network namespace and talk over localhost",
        "A pod is one network namespace. Every container in it sees the same lo and eth0, "
        "the same address and the same ports, which is why two containers of a pod cannot "
        "both listen on one port. The pod app runs app on 8080 and an envoy sidecar on "
        "9901. For the sidecar, app is simply 127.0.0.1:8080: the packet never leaves the "
        "namespace.",
        "container-to-container",
        (Task("localhost", "From the sidecar container, reach app on 127.0.0.1:8080.",
              "trace pod/app:sidecar 127.0.0.1 --port 8080",
              lambda lab: c.traced(lab, "pod/app", "127.0.0.1", "delivered",
                                   c.within_one_namespace, c.delivered_to(lab, "pod/app"))),
         Task("own-address", "Now use the pod's own address instead of 127.0.0.1.",
              "trace pod/app:sidecar pod/app:app",
              lambda lab: c.traced(lab, "pod/app", "pod/app", "delivered",
                                   c.within_one_namespace))),
    ),
    Lesson(
        "pod-to-pod-same-node", "Pod to pod on one node",
        "veth pairs and the cni0 bridge join the pods of a node",
        "Each pod's eth0 is one end of a veth pair; the other end sits in the node's root "
        "namespace, plugged into the bridge cni0. Two pods on the same node talk through "
        "that bridge like two machines on one switch: no routing on the node is needed for "
        "the frame to cross. client and web-2 both run on kind-worker.",
        "pod-to-pod-same-node",
        (Task("across-the-bridge", "Send from pod/client to pod/web-2 and find the hop "
              "where cni0 switches the frame.",
              "trace pod/client pod/web-2, then look for the bridge hop",
              lambda lab: c.traced(lab, "pod/client", "pod/web-2", "delivered", c.bridged)),
         Task("reply", "Trace the answer back from web-2.",
              "reply (it answers the last trace)",
              lambda lab: c.replied(lab, "pod/client", c.from_address(lab, "pod/web-2")))),
    ),
    Lesson(
        "pod-to-pod-across-nodes", "Pod to pod across nodes",
        "each node routes the other nodes' pod CIDRs to them over eth0",
        "Every node owns a pod CIDR: 10.244.1.0/24 for kind-worker, 10.244.2.0/24 for "
        "kind-worker2. To reach a pod elsewhere, the node needs one route per other node: "
        "'10.244.2.0/24 via 172.18.0.3 dev eth0' sends those packets to kind-worker2 across "
        "the node network, which hands them to its bridge. Select node/kind-worker and read "
        "its routes with ip route.",
        "pod-to-pod-across-nodes",
        (Task("across", "Send from pod/client (kind-worker) to pod/web-1 (kind-worker2).",
              "trace pod/client pod/web-1",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.through_nodes(2))),
         Task("reply", "Trace the reply home.", "reply",
              lambda lab: c.replied(lab, "pod/client", c.from_address(lab, "pod/web-1")))),
    ),
    Lesson(
        "cni-ptp", "CNI wiring without a bridge",
        "the ptp plugin uses one veth and one host route per pod instead of a bridge",
        "A CNI plugin decides how a pod is wired. The bridge plugin plugs every veth into "
        "cni0. The ptp plugin, loaded here, plugs nothing: it gives each pod's host-side "
        "veth a /32 route, so even two pods on one node go through the node's routing "
        "table. Compare ip route on kind-worker with the bridge lab.",
        "cni-ptp",
        (Task("routed", "Send from pod/client to pod/web-2 on the same node and check no "
              "bridge is crossed.",
              "trace pod/client pod/web-2",
              lambda lab: c.traced(lab, "pod/client", "pod/web-2", "delivered",
                                   c.never_bridged)),),
    ),
    Lesson(
        "cni-vxlan", "An overlay: VXLAN between nodes",
        "flannel wraps pod packets in UDP from node to node, which costs 50 bytes of MTU",
        "With flannel's vxlan backend the node network never learns a pod address. Each "
        "node has a VXLAN device, flannel.1, and a route per other node such as "
        "'10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink'. flannel.1 looks the next hop "
        "up in its neighbour table (a MAC) and that MAC in its forwarding table (the other "
        "node's IP), then wraps the whole frame in UDP to port 8472. The far node unwraps it "
        "and the inner packet carries on as if flannel.1 were a wire. The outer headers take "
        "50 bytes, so flannel.1 and every pod get MTU 1450. Select node/kind-worker and try "
        "ip -d link show flannel.1, ip neigh show and bridge fdb show dev flannel.1.",
        "cni-vxlan",
        (Task("tunnel", "Send from pod/client to pod/web-1 and find where the packet is "
              "wrapped and where it is unwrapped.",
              "trace pod/client pod/web-1, then look for encapsulate and decapsulate",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.tunnelled)),
         Task("full", "Send the biggest packet that fits, with Don't Fragment set: its "
              "outer packet fills eth0's 1500 bytes exactly.",
              "trace pod/client pod/web-1 --size 1450 --df",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.outer_length(1500))),
         Task("too-big", "One byte more, still with DF: it never leaves the pod.",
              "trace pod/client pod/web-1 --size 1451 --df",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "dropped",
                                   c.too_long))),
    ),
    Lesson(
        "pod-to-service", "Pod to Service",
        "kube-proxy's iptables rules turn a ClusterIP into a pod address and back",
        "A Service gives a set of pods one stable address, the ClusterIP. No interface owns "
        "it: kube-proxy writes nat rules on every node that pick one endpoint (KUBE-SVC-*) "
        "and rewrite the destination to it (KUBE-SEP-*, a DNAT). conntrack remembers the "
        "choice, so the reply is rewritten back and the client sees the ClusterIP answer.",
        "pod-to-service",
        (Task("dnat", "Send a packet from pod/client to svc/web and find the rule that "
              "rewrote its destination.",
              "trace pod/client svc/web, then look for a KUBE-SEP chain",
              lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                                   c.rewritten_by("KUBE-SEP-"))),
         Task("reply", "Trace the reply and see it come from the ClusterIP.", "reply",
              lambda lab: c.replied(lab, "pod/client", c.from_address(lab, "svc/web")))),
    ),
    Lesson(
        "egress", "Egress to the internet",
        "the node masquerades pods, the VPC gateway maps node IPs to public ones",
        "Pod addresses mean nothing outside the cluster. On the way out, the node rewrites "
        "the source to its own address (MASQUERADE), and the VPC's internet gateway rewrites "
        "that private node address to a public one. Each rewrite is remembered by conntrack, "
        "which is how the answer finds its way back to the pod.",
        "egress",
        (Task("out", "Send from pod/client to internet and find both source rewrites.",
              "trace pod/client internet",
              lambda lab: c.traced(lab, "pod/client", "internet", "delivered",
                                   c.masqueraded, c.nat_at("vpc-gateway"))),
         Task("back", "Trace the reply back to the pod.", "reply",
              lambda lab: c.replied(lab, "pod/client"))),
    ),
    Lesson(
        "loadbalancer", "LoadBalancer Services",
        "a cloud load balancer brings outside traffic to nodes; the policy decides which",
        "A LoadBalancer Service asks the cloud for an external address. The cloud balancer "
        "sends each connection to a node; kube-proxy there does the rest. With "
        "externalTrafficPolicy Cluster any node will do, and it may forward to a pod "
        "elsewhere, hiding the client's address behind a SNAT. With Local only nodes that "
        "run a pod get traffic, and the pod sees the real client.",
        "loadbalancer",
        (Task("cluster", "From internet, reach lb/shop-cluster.",
              "trace internet lb/shop-cluster",
              lambda lab: c.traced(lab, "internet", "lb/shop-cluster", "delivered")),
         Task("local", "From internet, reach lb/shop-local and check the pod sees the "
              "internet host's own address.",
              "trace internet lb/shop-local",
              lambda lab: c.traced(lab, "internet", "lb/shop-local", "delivered",
                                   c.source_kept(lab, "internet")))),
    ),
    Lesson(
        "lb-providers", "Three load-balancer providers, one Service",
        "MetalLB, the cloud and cloud-provider-kind: where a packet enters, what the pod sees",
        "Who gives a LoadBalancer its address decides the path in. This lab runs MetalLB in "
        "layer 2, as on kind: every speaker computes the same election for an address, and "
        "the winner alone answers ARP for it, so every packet from outside enters through "
        "that one node (kubeadm's exclude-from-external-load-balancers label keeps the "
        "control plane out). With externalTrafficPolicy Cluster kube-proxy there "
        "masquerades, and the pod sees a node's address; with Local only a node with a pod "
        "may win, and the pod sees the client. The cloud provider (compare bridge) sends each "
        "flow to any node; cloud-provider-kind (compare bridge+cloud-provider-kind) is an "
        "Envoy that ends the connection and opens its own. A drain leaves the speaker, a "
        "DaemonSet pod, running: with Cluster the address stays where it was; the label "
        "moves it, with a gratuitous ARP.",
        "metallb",
        (Task("cluster", "From internet, reach lb/shop-cluster: it enters through the node "
              "whose speaker answered the ARP, and the pod does not see the client.",
              "trace internet lb/shop-cluster, then read the gateway's ARP hop",
              lambda lab: c.traced(lab, "internet", "lb/shop-cluster", "delivered",
                                   c.entered_through_announcer,
                                   c.client_address_lost(lab, "internet"))),
         Task("local", "Reach lb/shop-local: the elected node runs the pod, and the pod sees "
              "the internet host's own address.",
              "trace internet lb/shop-local",
              lambda lab: c.traced(lab, "internet", "lb/shop-local", "delivered",
                                   c.entered_through_announcer,
                                   c.source_kept(lab, "internet"))),
         Task("cloud", "Send the packet to lb/shop-cluster again on the cloud provider.",
              "trace internet lb/shop-cluster, then compare bridge",
              lambda lab: cc.compared(lab, "internet", "lb/shop-cluster", "bridge",
                                      cc.delivered_on_both)),
         Task("envoy", "Send the packet to lb/shop-local on cloud-provider-kind: the walk "
              "ends at an Envoy, which opens its own connection, so no pod sees the client.",
              "trace internet lb/shop-local, then compare bridge+cloud-provider-kind",
              lambda lab: cc.compared(lab, "internet", "lb/shop-local",
                                      "bridge+cloud-provider-kind", cc.right_ends_at("envoy"))),
         Task("move", "Move the address: label its node node.kubernetes.io/exclude-from-"
              "external-load-balancers and trace again (a drain would not move it).",
              "kubectl label node NODE node.kubernetes.io/exclude-from-external-load-"
              "balancers=true, then trace internet lb/shop-cluster",
              lambda lab: c.address_moved(lab, "internet", "lb/shop-cluster"))),
    ),
    Lesson(
        "ingress", "One Ingress for many Services",
        "one load balancer and an ingress controller route by Host to several Services",
        "A load balancer per Service costs an address each. An Ingress puts one controller "
        "behind one load balancer and lets it choose a Service by the request's Host and "
        "path. The connection ends at the controller, which opens a second one to the "
        "chosen Service. Send with --host to pick the site.",
        "ingress",
        (Task("blog", "Reach the blog through the ingress with Host blog.example.com.",
              f"trace internet {INGRESS_LB} --host blog.example.com",
              lambda lab: c.traced(lab, "pod/ingress-nginx/" + _controller(lab), "svc/blog",
                                   "delivered")),
         Task("docs", "Now reach the docs site through the same address.",
              f"trace internet {INGRESS_LB} --host docs.example.com",
              lambda lab: c.traced(lab, "pod/ingress-nginx/" + _controller(lab), "svc/docs",
                                   "delivered"))),
    ),
    Lesson(
        "gateway-migration", "From Ingress to Gateway API",
        "the same two sites behind a Gateway and HTTPRoutes; the same requests reach them",
        "ingress-nginx, the controller the lab's Ingress models, was retired in March 2026. "
        "Its successor is Gateway API: a GatewayClass names the controller (here Envoy "
        "Gateway), a Gateway asks it for a proxy with listeners, and HTTPRoutes attach to "
        "a listener and route by host and path. saves/ingress-to-gateway.yaml is this "
        "lab's Ingress translated as ingress2gateway does it: one Gateway, one HTTPRoute "
        "per host. Send the same requests through the ingress and through the Gateway and "
        "compare: both end one connection and open their own to the site, but Envoy "
        "connects to a pod directly, not to the Service's cluster IP.",
        "ingress",
        (Task("ingress", "First reach the blog through the ingress, as before.",
              f"trace internet {INGRESS_LB} --host blog.example.com",
              lambda lab: c.traced(lab, "pod/ingress-nginx/" + _controller(lab), "svc/blog",
                                   "delivered")),
         Task("apply", "Apply the Gateway and its HTTPRoutes.",
              "kubectl apply -f saves/ingress-to-gateway.yaml (from the project folder), "
              "then kubectl get gateway,httproute",
              lambda lab: _programmed(lab, "default", "sites")),
         Task("blog", "Send the same request to the Gateway's address.",
              "trace internet gw/sites --host blog.example.com",
              lambda lab: _through_gateway(lab, "blog")),
         Task("docs", "And the docs site through the Gateway.",
              "trace internet gw/sites --host docs.example.com",
              lambda lab: _through_gateway(lab, "docs"))),
    ),
    Lesson(
        "iptables-at-scale", "Why big clusters leave iptables",
        "every Service adds a rule each packet may walk past; IPVS and eBPF look it up instead",
        "In iptables mode kube-proxy writes one rule per Service port into KUBE-SERVICES, "
        "and the kernel tries them in order until one matches. This lab has 10 Services. "
        "Send a packet to svc/web: its KUBE-SEP hop says how many rules were walked. Then "
        "add 9,990 Services whose names sort before web (kube-proxy lists them by name), "
        "which makes 10,000, the most Kubernetes is documented to handle, and send it "
        "again: the same lookup now walks past thousands of rules, for the first packet of "
        "every connection, and every change rewrites that table. So big clusters move to "
        "IPVS (the kernel finds the Service in a hash table), nftables (verdict maps) or "
        "eBPF (Cilium looks it up in a BPF map before netfilter). Compare each packet with "
        "bridge/nftables too: a copy of the lab whose kube-proxy runs in nftables mode finds "
        "the Service with one lookup in the @service-ips verdict map, so its walk stays the "
        "same length. The Now: line under the tasks keeps the counts of both modes side by "
        "side.",
        "service-crowd",
        (Task("ten", "With 10 Services, send from pod/client to svc/web and note how many "
              "rules it walked to its DNAT.",
              "trace pod/client svc/web; the KUBE-SEP hop says how many rules were walked",
              lambda lab: c.services_at_most(lab, 10) and c.traced(
                  lab, "pod/client", "svc/web", "delivered", c.rewritten_by("KUBE-SEP-"))),
         Task("nftables-ten", "Compare that packet with bridge/nftables and note the rules "
              "its endpoint chain's DNAT was reached after.",
              "compare bridge/nftables (or d): the endpoint- row says how many rules were "
              "walked",
              lambda lab: cc.compared(lab, "pod/client", "svc/web", "bridge/nftables",
                                      cc.delivered_on_both, cc.only_on_right("nftables",
                                                                             rewriting=True))),
         Task("crowd", "Add 9,990 Services whose names sort before web: 10,000 in all.",
              "kubectl apply -f saves/service-crowd.yaml (from the project folder; it takes "
              "a few seconds)",
              lambda lab: c.services_at_least(lab, CROWD_SIZE)),
         Task("again", "Send the same packet again and see the longer walk.",
              "trace pod/client svc/web, then compare the rules walked with the first time",
              lambda lab: c.lookup_grew(lab, "pod/client", "svc/web")),
         Task("nftables-crowd", "Compare it with bridge/nftables again: 10,000 Services, "
              "and the nftables walk has not grown.",
              "compare bridge/nftables (or d) on the last trace",
              lambda lab: cc.walk_stayed_flat(lab, "pod/client", "svc/web", "bridge/nftables",
                                              CROWD_SIZE - 10))),
        measure=lambda lab: _rules_and_walks(lab),
    ),
    Lesson(
        "ipvs-to-nftables", "From IPVS to nftables",
        "the same lab with kube-proxy moved from IPVS to nftables mode; the two walks compared",
        "IPVS mode is deprecated: kube-proxy warns since Kubernetes 1.35, the mode is planned "
        "off by default in 1.40 and gone in 1.43. Its successor is nftables mode, GA since "
        "1.33. Moving is one line of kube-proxy's configuration (mode: nftables) and a "
        "restart of its DaemonSet: the Services and endpoints stay, each node's kube-proxy "
        "drops its virtual servers and writes table ip kube-proxy instead. Here kube-proxy "
        "runs in IPVS mode. Trace a packet to svc/web, then compare it with bridge/nftables: "
        "the copy is this lab's objects on nodes whose kube-proxy runs in nftables mode, "
        "which is what the migration makes of every node. In IPVS the ClusterIP is an "
        "address of kube-ipvs0, so the packet is delivered locally and IPVS picks a pod at "
        "LOCAL_IN; in nftables it never is: the @service-ips map sends it to the Service's "
        "chain at prerouting, and an endpoint chain's dnat picks the pod. One thing to check "
        "before moving: nftables mode serves NodePorts on the node's primary address only "
        "(nodePortAddresses defaults to primary), where IPVS served every node address.",
        "pod-to-service-ipvs",
        (Task("ipvs", "Send from pod/client to svc/web and find the IPVS hop that picks the "
              "pod.",
              "trace pod/client svc/web; the ipvs hop at LOCAL_IN on kind-worker",
              lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                                   lambda t: any(h.rewrote for h in t.events("ipvs")))),
         Task("migrate", "Compare the packet with bridge/nftables: the virtual server is "
              "gone, a verdict map and an endpoint chain's dnat pick the pod instead.",
              "compare bridge/nftables (or d): the < ipvs row, the > nftables rows",
              lambda lab: cc.compared(lab, "pod/client", "svc/web", "bridge/nftables",
                                      cc.delivered_on_both,
                                      cc.only_on_left("ipvs", rewriting=True),
                                      cc.on_right("nftables", rewriting=True))),
         Task("node", "Do the same from the node itself: node/kind-worker to svc/web.",
              "trace node/kind-worker svc/web, then compare bridge/nftables: nat-output "
              "on the right",
              lambda lab: cc.compared(lab, "node/kind-worker", "svc/web", "bridge/nftables",
                                      cc.delivered_on_both,
                                      cc.on_right("nftables", rewriting=True)))),
    ),
    Lesson(
        "compare-dataplanes", "Same packet, two dataplanes",
        "one packet through bridge, ptp, vxlan, cilium and IPVS side by side",
        "The dataplane is what moves a packet between pods: the CNI plugin that wires each "
        "pod to its node, and whatever turns a Service address into a pod's. This lab runs "
        "bridge with kube-proxy's iptables rules: each pod's veth is a port of cni0, and "
        "pods of one node meet on that switch. ptp has no switch: the node reaches each pod "
        "by a /32 route on its host veth. vxlan, flannel's overlay, carries a packet between "
        "nodes inside a UDP packet from one node to the other. cilium does without "
        "kube-proxy: eBPF programs swap the Service address as the pod connects; and "
        "kube-proxy itself can hand Services to IPVS, the kernel's load balancer, instead "
        "of iptables (bridge/ipvs). After a "
        "trace, press d (or type compare ptp): the lab is copied onto the other dataplane, "
        "the same packet leaves from the same port, and both walks are lined up. A | marks "
        "a step both took differently, > one only the other dataplane took, < one only "
        "bridge took.",
        "loadbalancer",
        (Task("same-node", "Trace pod/client to pod/web-2 (both on kind-worker), compare it "
              "with ptp and find the step only ptp takes on the node.",
              "trace pod/client pod/web-2, then d or compare ptp: look for the > rows",
              lambda lab: cc.compared(lab, "pod/client", "pod/web-2", "ptp", cc.same_end,
                                      cc.only_on_right("forward"))),
         Task("service", "Compare a packet to svc/web with ptp: the DNAT is the same rule on "
              "both, only the device it arrived on differs.",
              "trace pod/client svc/web, then compare ptp: step to the KUBE-SEP row",
              lambda lab: cc.compared(lab, "pod/client", "svc/web", "ptp", cc.same_end,
                                      cc.same_translation, cc.differs_in("device"))),
         Task("load-balancer", "Compare a packet from the internet to lb/shop-cluster: "
              "the cloud and the node network see no difference at all.",
              "trace internet lb/shop-cluster, then compare ptp",
              lambda lab: cc.compared(lab, "internet", "lb/shop-cluster", "ptp",
                                      cc.same_end)),
         Task("overlay", "Compare pod/client to pod/web-1 (across nodes) with vxlan: find "
              "where flannel.1 wraps the packet and where the other node unwraps it.",
              "trace pod/client pod/web-1, then compare vxlan: the encapsulate and "
              "decapsulate rows",
              lambda lab: cc.compared(lab, "pod/client", "pod/web-1", "vxlan", cc.same_end,
                                      cc.only_on_right("encapsulate"),
                                      cc.only_on_right("decapsulate"))),
         Task("socket-lb", "Compare a packet to svc/web with cilium: find where it swaps the "
              "Service address for a pod's, and the iptables DNAT it no longer needs.",
              "trace pod/client svc/web, then compare cilium: the first row, and the < "
              "netfilter row on kind-worker",
              lambda lab: cc.compared(lab, "pod/client", "svc/web", "cilium",
                                      cc.delivered_on_both,
                                      cc.only_on_right("bpf", rewriting=True),
                                      cc.only_on_left("netfilter", rewriting=True))),
         Task("ipvs", "Compare a packet to svc/web with bridge/ipvs: the same CNI, but the pod "
              "is picked by an IPVS virtual server instead of an iptables rule.",
              "trace pod/client svc/web, then compare bridge/ipvs: the > ipvs row",
              lambda lab: cc.compared(lab, "pod/client", "svc/web", "bridge/ipvs",
                                      cc.delivered_on_both,
                                      cc.only_on_right("ipvs", rewriting=True)))),
    ),
    Lesson(
        "dns", "What does `curl web` really send?",
        "the resolver's questions to kube-dns come first, then the connection",
        "Nobody types a ClusterIP. `curl web` first asks the pod's resolver for an address, "
        "and the resolver reads /etc/resolv.conf (select pod/client and run cat "
        "/etc/resolv.conf): nameserver 10.96.0.10, the kube-dns Service, a search list of "
        "default.svc.cluster.local, svc.cluster.local and cluster.local, and ndots:5. A "
        "name with fewer than five dots is tried with each search domain first, then as it "
        "is; a trailing dot means the name is complete. Every question is a UDP datagram "
        "to 10.96.0.10:53 that kube-proxy DNATs to one of the two coredns pods, which "
        "answers from the Services it watches or passes the question on to the resolver "
        "outside the cluster.",
        "dns",
        (Task("short-name", "Trace pod/client to web and find the DNS question before the "
              "connection.",
              "trace pod/client web",
              lambda lab: c.resolved(lab, "pod/client", "web.default.svc.cluster.local.", 1)
              and c.traced(lab, "pod/client", "svc/web", "delivered")),
         Task("outside", "Now a name outside the cluster: count the questions it takes.",
              "trace pod/client example.com:443",
              lambda lab: c.resolved(lab, "pod/client", "example.com.", 4)
              and c.forwarded_out(lab)),
         Task("long-name", "The full name has four dots, fewer than ndots: see the search "
              "list tried first.",
              "trace pod/client http://web.default.svc.cluster.local/",
              lambda lab: c.resolved(lab, "pod/client", "web.default.svc.cluster.local.", 4)),
         Task("trailing-dot", "With a trailing dot the resolver asks once.",
              "trace pod/client web.default.svc.cluster.local.:80",
              lambda lab: c.resolved(lab, "pod/client", "web.default.svc.cluster.local.", 1,
                                     "web.default.svc.cluster.local.:80"))),
    ),
    Lesson(
        "netpol-namespaces", "NetworkPolicy: default deny, then one namespace in",
        "isolate the pods of a namespace, then let exactly one other namespace reach its api",
        "Without a NetworkPolicy every pod takes connections from everywhere. A policy that "
        "selects a pod for Ingress isolates it: from then on only what some rule of some "
        "policy selecting it allows gets in. The usual start is a default deny, a policy "
        "with an empty podSelector and no rules, then one narrow allow per caller. Here "
        "shop/api is called by the pods of namespace frontend; default/client should not "
        "reach it. The manifests are in saves/ (apply them from the project folder); "
        "`kubectl describe netpol NAME -n shop` and the Policy tab show what each one does.",
        "netpol-namespaces",
        (Task("deny", "Isolate every pod of namespace shop for ingress.",
              "kubectl apply -f saves/netpol-deny-shop.yaml",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", False)
              and c.policy_decides(lab, "default/client", "shop/api", False)),
         Task("allow", "Let the pods of namespace frontend reach shop/api on port 80, "
              "and no one else.",
              "kubectl apply -f saves/netpol-allow-frontend.yaml",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", True)
              and c.policy_decides(lab, "frontend/batch", "shop/api", True)
              and c.policy_decides(lab, "default/client", "shop/api", False)),
         Task("trace", "Trace frontend/web to shop/api and read the policy's verdict.",
              "trace pod/frontend/web pod/shop/api",
              lambda lab: c.traced(lab, "pod/frontend/web", "pod/shop/api", "delivered"))),
    ),
    Lesson(
        "netpol-and-or", "NetworkPolicy: the AND-versus-OR selector trap",
        "one dash too many turns \"web pods of namespace frontend\" into \"all of frontend, "
        "or web pods of shop\"",
        "A rule's `from` is a list of peers, and a connection is let in if ANY peer "
        "matches. Inside one peer, a namespaceSelector and a podSelector must BOTH match. "
        "So `- namespaceSelector: ...` followed by `- podSelector: ...` (two dashes) is OR, "
        "while the same two selectors under one dash is AND. Here shop/api should take "
        "connections from the web pods of namespace frontend only; frontend/batch and "
        "shop's own web pod should stay out.",
        "netpol-namespaces",
        (Task("or", "Apply the two-dash version and find who it lets in besides "
              "frontend/web.",
              "kubectl apply -f saves/netpol-or.yaml, then trace pod/frontend/batch "
              "pod/shop/api and the Policy tab of namespace shop",
              lambda lab: c.policy_decides(lab, "frontend/batch", "shop/api", True)
              and c.policy_decides(lab, "shop/web", "shop/api", True)
              and c.policy_decides(lab, "default/client", "shop/api", False)),
         Task("and", "Replace it with the one-dash version: only frontend/web gets in.",
              "kubectl apply -f saves/netpol-and.yaml",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", True)
              and c.policy_decides(lab, "frontend/batch", "shop/api", False)
              and c.policy_decides(lab, "shop/web", "shop/api", False))),
    ),
    Lesson(
        "netpol-service-port", "NetworkPolicy: a Service's port is not the pod's",
        "a policy sees the packet after kube-proxy's DNAT, at the pod's port",
        "svc/shop/api listens on 8080 and sends to the api pod's port 80 (named http). "
        "kube-proxy rewrites the destination on the client's node, so by the time a "
        "policy at the pod judges the packet it is addressed to the pod's 80: a policy "
        "allowing port 8080 allows nothing here. Start with the default deny of "
        "saves/netpol-deny-shop.yaml, try the policy written against the Service, then the "
        "one written against the pod.",
        "netpol-namespaces",
        (Task("deny", "Isolate the pods of namespace shop.",
              "kubectl apply -f saves/netpol-deny-shop.yaml",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", False)),
         Task("service-port", "Allow frontend on the Service's port 8080, and see that "
              "svc/shop/api is still not allowed.",
              "kubectl apply -f saves/netpol-service-port.yaml, then trace "
              "pod/frontend/web svc/shop/api",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", True, 8080)
              and c.policy_decides(lab, "frontend/web", "shop/api", False, 80)
              and c.sent(lab, "pod/frontend/web", "svc/shop/api")),
         Task("pod-port", "Allow it on the pod's port instead.",
              "kubectl apply -f saves/netpol-pod-port.yaml",
              lambda lab: c.policy_decides(lab, "frontend/web", "shop/api", True, 80)
              and c.policy_decides(lab, "default/client", "shop/api", False, 80))),
    ),
    Lesson(
        "netpol-egress", "NetworkPolicy: egress deny-all, and what it breaks",
        "an egress default deny stops DNS too, until a rule lets the pods ask kube-dns",
        "Egress policies are judged at the source. A default deny for egress in namespace "
        "frontend stops every connection its pods open, the ones people forget as well: "
        "the resolver's question to kube-dns on UDP 53, so `curl api.shop` fails before "
        "any packet to api leaves. The usual fix is an allow-dns policy to the CoreDNS pods "
        "(namespace kube-system, k8s-app=kube-dns) on port 53.",
        "netpol-namespaces",
        (Task("deny", "Deny all egress of namespace frontend.",
              "kubectl apply -f saves/netpol-deny-egress.yaml",
              lambda lab: c.dns_decides(lab, "frontend/web", False)
              and c.policy_decides(lab, "frontend/web", "shop/api", False)),
         Task("dns", "Let its pods reach the cluster DNS again, and nothing else.",
              "kubectl apply -f saves/netpol-allow-dns.yaml",
              lambda lab: c.dns_decides(lab, "frontend/web", True)
              and c.policy_decides(lab, "frontend/web", "shop/api", False))),
    ),
    Lesson(
        "netpol-no-effect", "Break-fix: a NetworkPolicy with no effect",
        "default/deny-all is there, and every pod still answers everyone",
        "Someone applied a default deny to namespace default, yet client still reaches "
        "web-1. The API server stored the policy; but a NetworkPolicy is only a wish until "
        "the CNI, or an agent beside it, enforces it. The bridge plugin (like flannel) "
        "enforces none, silently: nothing refuses the policy, nothing acts on it. kindnet "
        "(ptp here) runs kube-network-policies, Cilium its own bpf maps.",
        "netpol-no-effect",
        (Task("delivered", "Send from pod/client to pod/web-1: delivered, and the trace "
              "says why the policy did nothing.",
              "trace pod/client pod/web-1, then read the note under the verdict",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.noted("enforces no NetworkPolicy"))),
         Task("enforcing", "Send the same packet through a copy of the lab on ptp, whose "
              "kube-network-policies enforces the policy.",
              "trace pod/client pod/web-1, then d or compare ptp",
              lambda lab: cc.compared(lab, "pod/client", "pod/web-1", "ptp"))),
    ),
    Lesson(
        "broken-selector", "Break-fix: a Service that rejects",
        "svc/shop answers every connection with a reject; find out why and repair it",
        "Someone exposed the shop, but connections to it are refused straight away. A "
        "Service sends to the pods its selector matches; when it matches none, kube-proxy "
        "installs a REJECT rule for it. Compare the Service's selector (kubectl get svc -o "
        "wide) with the labels of the shop pods (kubectl get pods --show-labels), then fix "
        "it.",
        "broken-selector",
        (Task("see-reject", "Send from pod/client to svc/shop and see it rejected.",
              "trace pod/client svc/shop",
              lambda lab: c.traced(lab, "pod/client", "svc/shop", "rejected")),
         Task("fix-selector", "Make svc/shop select the shop pods.",
              "kubectl set selector service shop app=shop (or delete it and kubectl expose "
              "deployment shop --port=80 again)",
              lambda lab: c.service_has_endpoints(lab, "default", "shop")),
         Task("works", "Send again and see it delivered to a shop pod.",
              "trace pod/client svc/shop",
              lambda lab: c.traced(lab, "pod/client", "svc/shop", "delivered",
                                   c.rewritten_by("KUBE-SEP-")))),
    ),
    Lesson(
        "dns-down", "Break-fix: names stop working",
        "every name fails in pod/client; find out why and bring DNS back",
        "Addresses still work here (trace pod/client svc/web), but no name does. A name "
        "needs the resolver's question to reach a CoreDNS pod through the kube-dns Service. "
        "Trace a name and look at the DNS leg: kube-proxy answers it with a reject, the "
        "resolver tries the next attempt, and gives up on the name. A Service rejects when "
        "it has no endpoints: look at the coredns pods (kubectl get pods -n kube-system) "
        "and at the Deployment that runs them (kubectl get deploy -n kube-system).",
        "dns-down",
        (Task("see-reject", "Trace pod/client to web and see its DNS question rejected.",
              "trace pod/client web",
              lambda lab: c.dns_refused(lab, "pod/client")),
         Task("scale-up", "Give kube-dns its CoreDNS pods back.",
              "kubectl scale deployment coredns -n kube-system --replicas=2",
              lambda lab: c.service_has_endpoints(lab, "kube-system", "kube-dns")),
         Task("works", "Trace web again: the question answered, then the connection.",
              "trace pod/client web",
              lambda lab: c.resolved(lab, "pod/client", "web.default.svc.cluster.local.", 1)
              and c.traced(lab, "pod/client", "svc/web", "delivered"))),
    ),
    Lesson(
        "dns-typo", "Break-fix: a name with a typo",
        "pod/client cannot reach its backend by the name it is configured with; find out why "
        "and fix it",
        "The client app reads its backend's URL from the ConfigMap client-config (kubectl "
        "get configmap client-config -o yaml) and says it cannot resolve the host. Trace that "
        "URL from pod/client and read each DNS leg: the name has fewer dots than ndots:5, so "
        "the resolver asks it with every search domain first, then alone, and CoreDNS answers "
        "NXDOMAIN each time with the zone's SOA: no Service has that name (kubectl get svc). "
        "A connection never starts. Put the right name in the client's configuration "
        "(saves/dns-typo-fix.yaml holds it spelled right), then trace the new URL.",
        "dns-typo",
        (Task("see-nxdomain", "Trace pod/client to the URL its configuration holds and see "
              "NXDOMAIN for every name of the search list.", "trace pod/client http://wbe/",
              lambda lab: c.nxdomain_through_search(lab, "pod/client", "wbe")),
         Task("fix", "Give the client a name a Service has.",
              "kubectl apply -f saves/dns-typo-fix.yaml",
              lambda lab: c.config_names_service(lab, "default", "client-config",
                                                 "BACKEND_URL")),
         Task("works", "Trace the fixed URL: one question answered, then the connection.",
              "trace pod/client http://web/",
              lambda lab: c.resolved(lab, "pod/client", "web.default.svc.cluster.local.", 1)
              and c.traced(lab, "pod/client", "svc/web", "delivered"))),
    ),
    Lesson(
        "cilium", "Cilium: Services without kube-proxy",
        "eBPF programs translate Service addresses at the socket and at the node's eth0",
        "This lab runs Cilium instead of kube-proxy: no node has a single KUBE- rule "
        "(select a node and look at its BPF tab, or run cilium bpf lb list there). When "
        "a pod connects to a Service, cil_sock4_connect picks a backend inside connect(), "
        "so the very first packet already goes to the pod behind the Service and nothing "
        "on the way is rewritten. Traffic from outside meets cil_from_netdev on the node's "
        "eth0 instead, which translates it there. shop-cluster and shop-local front the "
        "same single shop pod with the two traffic policies.",
        "cilium",
        (Task("socket-lb", "Send from pod/client to svc/web and find the hop where the "
              "Service address disappears.",
              "trace pod/client svc/web; the first hop is cil_sock4_connect",
              lambda lab: c.traced(lab, "pod/client", "svc/web", "delivered",
                                   c.program_rewrote("cil_sock4_connect"),
                                   c.no_iptables_nat)),
         Task("reply", "Trace the answer: nothing rewrites it, yet the application still "
              "believes it talks to the Service.",
              "reply; the last hop is cil_sock4_getpeername",
              lambda lab: c.replied(lab, "pod/client",
                                    c.program_acted("cil_sock4_getpeername"))),
         Task("lb-cluster", "Send from the internet to lb/shop-cluster.",
              "trace internet lb/shop-cluster; look at cil_from_netdev on the first node",
              lambda lab: c.traced(lab, "internet", "lb/shop-cluster", "delivered",
                                   c.program_rewrote("cil_from_netdev"))),
         Task("lb-local", "Send to lb/shop-local and check which source address the shop "
              "pod sees.",
              "trace internet lb/shop-local",
              lambda lab: c.traced(lab, "internet", "lb/shop-local", "delivered",
                                   c.program_rewrote("cil_from_netdev"),
                                   c.client_address_kept(lab, "internet")))),
    ),
    Lesson(
        "missing-route", "Break-fix: a lost route",
        "kind-worker cannot reach kind-worker2's pods; find where packets die and repair it",
        "client on kind-worker can no longer reach web-1 on kind-worker2. Follow the packet "
        "hop by hop to the place it dies, then read the routing table of the node it left "
        "(select node/kind-worker, ip route). Compare with what kind-worker2's pod CIDR "
        "needs, and add the missing route back with ip route add.",
        "missing-route",
        (Task("find", "Send from pod/client to pod/web-1 and see where it dies.",
              "trace pod/client pod/web-1; the last hop is not on kind-worker2",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "unreachable")),
         Task("repair", "Give kind-worker its route to 10.244.2.0/24 back.",
              "select node/kind-worker, then ip route add 10.244.2.0/24 via 172.18.0.3",
              lambda lab: c.node_routes(lab, "kind-worker", "10.244.2.0/24")),
         Task("works", "Send again and see it delivered.", "trace pod/client pod/web-1",
              lambda lab: c.traced(lab, "pod/client", "pod/web-1", "delivered",
                                   c.through_nodes(2)))),
    ),
)
BY_ID = {lesson.id: lesson for lesson in LESSONS}


def _rules_and_walks(lab) -> str:
    """The lesson's figures side by side: how long the chain is, how far each lookup went
    in this lab (iptables) and in its copies on bridge/nftables."""
    walks = c.nat_walks(lab, "pod/client", "svc/web")
    walked = " then ".join(f"{w:,}" for w in walks) if walks else "no packet sent yet"
    copies = cc.walks_compared(lab, "pod/client", "svc/web", "bridge/nftables")
    nft = " then ".join(f"{w:,}" for w in copies) if copies else "not compared yet"
    return (f"{len(lab.cluster.services()):,} Services · KUBE-SERVICES on kind-worker: "
            f"{c.chain_length(lab, 'kind-worker', 'nat', 'KUBE-SERVICES'):,} rules · walked to "
            f"svc/web's DNAT: {walked} · nftables: {nft}")


def _programmed(lab, namespace: str, name: str) -> bool:
    gw = lab.cluster.api.peek("Gateway", namespace, name)
    return gw is not None and any(
        cond.type == "Programmed" and cond.status == "True"
        for cond in gateway_view(lab.cluster, gw).conditions)


def _through_gateway(lab, app: str) -> bool:
    """A connection from a Gateway's Envoy delivered to a pod of the site."""
    envoys = {f"pod/{p.key}" for p in lab.cluster.pods(ENVOY_NAMESPACE)}
    return any(t.source in envoys and t.verdict == "delivered"
               and (pod := _pod_at(lab, t.delivered_to.namespace)) is not None
               and pod.metadata.labels.get("app") == app
               for t in lab.journal.traces())


def _pod_at(lab, place: str):
    _, _, key = place.partition("/")
    namespace, _, name = key.partition("/")
    return lab.cluster.api.peek("Pod", namespace, name)


def _controller(lab) -> str:
    """The ingress controller pod's name (its Deployment names it)."""
    pods = lab.cluster.pods("ingress-nginx")
    return pods[0].name if pods else "none"


def find_lesson(lesson_id: str) -> Lesson:
    try:
        return BY_ID[lesson_id]
    except KeyError:
        raise KeyError(f"no guided lab is called {lesson_id!r} (see k8s-playground labs)")\
            from None
