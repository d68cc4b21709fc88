"""The `:` command line, as a learner types it."""

from ipaddress import IPv4Address

import pytest

from playground.shell import Shell, ShellError


@pytest.fixture
def shell(lab):
    return Shell(lab)


async def test_create_expose_and_reach_a_deployment(shell, lab):
    await shell.run("kubectl create deployment shop --image=nginx:1.27 --replicas=2 --port=80")
    result = await shell.run("kubectl expose deployment shop --port=80 --type=LoadBalancer")
    assert result.changed and "service/shop exposed" in result.output
    table = (await shell.run("kubectl get svc")).output
    assert "shop" in table and "LoadBalancer" in table and "198.51.100." in table
    assert "2/2" in (await shell.run("kubectl get deploy")).output
    result = await shell.run("trace internet lb/shop")
    assert result.trace.verdict == "delivered"
    assert result.trace.delivered_to.namespace.startswith("pod/default/shop-")
    back = await shell.run("reply")
    assert back.trace.verdict == "delivered" and back.trace.delivered_to.namespace == "internet"


async def test_scale_and_delete(shell, lab):
    await shell.run("kubectl create deployment api --image=nginx --replicas=3")
    await shell.run("kubectl scale deployment/api --replicas=1")
    assert len([p for p in lab.pods() if p.name.startswith("api-")]) == 1
    await shell.run("kubectl delete deployment api")
    assert not [p for p in lab.pods() if p.name.startswith("api-")]
    await shell.run("kubectl run box --image=busybox --port=8080")
    assert "box" in (await shell.run("kubectl get pods -o wide")).output
    await shell.run("kubectl delete pod box")
    assert "box" not in (await shell.run("kubectl get pods")).output


async def test_node_tools_act_on_the_selection(shell):
    routes = (await shell.run("ip route", "node/kind-worker")).output
    assert "10.244.2.0/24 via 172.18.0.3 dev eth0" in routes
    await shell.run("trace pod/client svc/web")
    nat = (await shell.run("iptables-save -t nat -c", "node/kind-worker")).output
    assert "[1:60] -A PREROUTING" in nat
    listing = (await shell.run("conntrack -L", "node/kind-worker")).output
    assert "dport=80" in listing and "1 flow entries have been shown." in listing


@pytest.mark.parametrize("line, message", [
    ("kubectl frobnicate", "kubectl frobnicate: not supported here"),
    ("kubectl get widgets", "unknown kind 'widgets'"),
    ("kubectl run x", "the following arguments are required: --image"),
    ("kubectl scale deployment nope --replicas=2", 'deployment "default/nope" not found'),
    ("trace pod/client pod/nope", 'pod "nope" not found'),
    ("reply", "nothing to reply to"),
    ("ip route", "select a node or a pod first"),
    ("rm -rf /", "unknown command 'rm'"),
    ('trace "unclosed', "cannot read the command"),
])
async def test_errors_are_one_line(shell, line, message):
    with pytest.raises(ShellError, match=message.replace("(", r"\(")) as caught:
        await shell.run(line)
    assert "\n" not in str(caught.value)


async def test_sysctl_on_the_selected_node(shell, lab):
    result = await shell.run("sysctl -w net.bridge.bridge-nf-call-iptables=0", "node/kind-worker")
    assert result.output == "net.bridge.bridge-nf-call-iptables = 0\n"
    assert lab.node_namespace("kind-worker").sysctl["net.bridge.bridge-nf-call-iptables"] == "0"
    assert lab.node_namespace("kind-worker2").sysctl["net.bridge.bridge-nf-call-iptables"] == "1"
    with pytest.raises(ShellError, match="not modelled here"):
        await shell.run("sysctl -w net.ipv4.nope=1", "node/kind-worker")


async def test_node_add_then_a_pod_placed_on_it_and_removed(shell, lab):
    result = await shell.run("node add kind-worker3")
    assert "kind-worker3 joined" in result.output and "10.244.3.0/24" in result.output
    await shell.run("kubectl run dbg --image=busybox --port=8080 "
                    """--overrides='{"spec":{"nodeName":"kind-worker3"}}'""")
    assert lab.find_pod("dbg").spec.node_name == "kind-worker3"
    assert (await shell.run("trace pod/client pod/dbg --port 8080")).trace.verdict == \
        "delivered"
    with pytest.raises(ShellError, match="only spec.nodeName"):
        await shell.run("""kubectl run x --image=a --overrides='{"spec":{"hostPID":true}}'""")
    await shell.run("kubectl delete node kind-worker3")
    assert "kind-worker3" not in (await shell.run("kubectl get nodes")).output


async def test_create_service_selects_app_name_and_set_selector_changes_it(shell, lab):
    await shell.run("kubectl create deployment shop --image=nginx --replicas=2 --port=80")
    await shell.run("kubectl create service nodeport shop --tcp=8080:80")
    service = lab.find_service("shop")
    assert service.spec.selector == {"app": "shop"} and service.spec.ports[0].node_port
    assert (await shell.run("trace pod/client svc/shop")).trace.verdict == "delivered"
    await shell.run("kubectl set selector service shop app=nothing")
    trace = (await shell.run("trace pod/client svc/shop")).trace
    assert trace.verdict == "rejected", "no endpoints now: kube-proxy's REJECT answers"


async def test_patch_traffic_policy_and_refuse_what_cannot_change(shell, lab):
    await shell.run("kubectl create deployment shop --image=nginx --replicas=1 --port=80")
    await shell.run("kubectl create service loadbalancer shop --tcp=80")
    await shell.run("kubectl patch service shop -p "
                    """'{"spec":{"externalTrafficPolicy":"Local"}}'""")
    assert lab.find_service("shop").spec.external_traffic_policy == "Local"
    trace = (await shell.run("trace internet lb/shop")).trace
    assert trace.delivered_to.namespace.startswith("pod/default/shop-")
    assert trace.hops[-1].packet_after.src == IPv4Address("203.0.113.100"), "client IP kept"
    with pytest.raises(ShellError, match="spec.type cannot be patched"):
        await shell.run("""kubectl patch svc shop -p '{"spec":{"type":"NodePort"}}'""")
    with pytest.raises(ShellError, match=r'spec.externalTrafficPolicy: Unsupported value: "x": '
                                         r'supported values: "Cluster", "Local"$'):
        await shell.run("""kubectl patch svc shop -p '{"spec":{"externalTrafficPolicy":"x"}}'""")
    with pytest.raises(ShellError, match="not JSON"):
        await shell.run("kubectl patch svc shop -p '{oops'")


async def test_create_ingress_routes_by_host(shell, lab):
    await shell.run("kubectl create deployment shop --image=nginx --replicas=1 --port=80")
    await shell.run("kubectl create service clusterip shop --tcp=80")
    await shell.run("kubectl create ingress front --rule=shop.example/*=shop:80 "
                    "--rule=web.example/=web:80")
    ingress = lab.ingresses()[0]
    assert [(r.host, r.paths[0].path_type) for r in ingress.rules] == [
        ("shop.example", "Prefix"), ("web.example", "Exact")]
    result = await shell.run("trace internet lb/ingress-nginx/ingress-nginx-controller "
                             "--host shop.example --path /cart")
    assert result.traces[-1].delivered_to.namespace.startswith("pod/default/shop-")
    with pytest.raises(ShellError, match="HOST/PATH=SERVICE:PORT"):
        await shell.run("kubectl create ingress bad --rule=nothing")


async def test_lab_new_replaces_the_lab_with_another_cni(shell, lab):
    result = await shell.run("lab new --cni ptp --seed 3")
    assert result.replaced and shell.cluster is not lab
    assert shell.cluster.cni.name == "ptp"
    assert "cni0" not in (await shell.run("ip route", "node/kind-worker")).output
    await shell.cluster.stop()


async def test_get_shows_selectors_and_labels_to_compare(shell, lab):
    services = (await shell.run("kubectl get svc -o wide")).output
    assert services.splitlines()[0].split()[-1] == "SELECTOR"
    assert "app=web" in [line.split()[-1] for line in services.splitlines() if "web" in line][0]
    pods = (await shell.run("kubectl get pods --show-labels")).output
    assert pods.splitlines()[0].split()[-1] == "LABELS"
    assert any(line.startswith("web-1 ") and line.endswith("app=web")
               for line in pods.splitlines())


@pytest.mark.dataplanes("vxlan")
async def test_tunnel_views_and_trace_size_on_the_command_line(dataplane_lab):
    shell = Shell(dataplane_lab)
    link = (await shell.run("ip -d link show flannel.1", "node/kind-worker")).output
    assert "vxlan id 1 local 172.18.0.2 dev eth0 srcport 0 0 dstport 8472 nolearning" in link
    neigh = (await shell.run("ip neigh show dev flannel.1", "node/kind-worker")).output
    assert neigh.count("PERMANENT") == 2 and " dev " not in neigh
    fdb = (await shell.run("bridge fdb show dev flannel.1", "node/kind-worker")).output
    assert "dst 172.18.0.3 self permanent\n" in fdb
    result = await shell.run("trace pod/client pod/web-1 --size 1450 --df")
    assert result.trace.verdict == "delivered" and result.trace.events("encapsulate")
    with pytest.raises(ShellError, match="only `bridge fdb show"):
        await shell.run("bridge link", "node/kind-worker")
    with pytest.raises(ShellError, match="only VXLAN devices"):
        await shell.run("ip link show eth0", "node/kind-worker")


async def test_cilium_views_on_the_selected_node_of_a_cilium_lab(shell, lab):
    with pytest.raises(ShellError, match="runs the bridge CNI, not Cilium"):
        await shell.run("cilium bpf lb list", "node/kind-worker")
    await shell.run("lab new --cni cilium")
    try:
        await shell.run("trace pod/client svc/web")
        lb = (await shell.run("cilium bpf lb list", "node/kind-worker")).output
        assert lb.startswith("SERVICE ADDRESS ") and "[ClusterIP, non-routable]" in lb
        ct = (await shell.run("cilium bpf ct list global", "node/kind-worker")).output
        assert ct.startswith("TCP OUT 10.244.1.2:")
        services = (await shell.run("cilium service list", "node/kind-worker")).output
        assert services.startswith("ID   Frontend")
        assert (await shell.run("cilium bpf nat list", "node/kind-worker")).output == ""
        with pytest.raises(ShellError, match="runs no Cilium agent; select a node"):
            await shell.run("cilium service list", "pod/client")
        with pytest.raises(ShellError, match="cilium bpf map list: not modelled here"):
            await shell.run("cilium bpf map list", "node/kind-worker")
    finally:
        await shell.cluster.stop()


async def test_ipvs_views_on_the_selected_node_and_a_new_ipvs_lab(shell):
    with pytest.raises(ShellError, match="no IPVS in node/kind-worker"):
        await shell.run("ipvsadm -Ln", "node/kind-worker")
    result = await shell.run("lab new --proxy-mode ipvs")
    assert result.replaced and "kube-proxy in ipvs mode" in result.output
    assert shell.cluster.proxy_mode == "ipvs"
    listing = (await shell.run("ipvsadm -Ln", "node/kind-worker")).output
    assert listing.startswith("IP Virtual Server version 1.2.1 (size=4096)\n")
    assert "TCP  10.96.0.1:443 rr\n  -> 172.18.0.4:6443" in listing
    await shell.run("trace pod/client svc/web")
    connections = (await shell.run("ipvsadm -L -n -c", "node/kind-worker")).output
    assert connections.splitlines()[2].startswith("TCP 01:00  SYN_RECV    10.244.1.2:")
    sets = (await shell.run("ipset list KUBE-CLUSTER-IP", "node/kind-worker")).output
    assert sets.startswith("Name: KUBE-CLUSTER-IP\nType: hash:ip,port\n")
    for bad, says in (("ipvsadm -Ln --stats", "use -Ln"), ("ipvsadm -L", "add -n"),
                      ("ipset create X hash:ip", "ipset list"),
                      ("ipset list NOPE", "does not exist"),
                      ("lab new --proxy-mode nft", "invalid choice")):
        with pytest.raises(ShellError, match=says):
            await shell.run(bad, "node/kind-worker")
    assert shell.cluster.proxy_mode == "ipvs", "a refused command changes nothing"
