"""resolv.conf per dnsPolicy (kubelet's dns.go) and glibc's search order."""

from playground.cluster.dns.resolv import DnsConfig, ResolvConf, pod_resolv_conf, search_order

NODE = ResolvConf(("203.0.113.53",), ("corp.example",))


def test_cluster_first_points_at_kube_dns_with_the_namespace_search_list():
    conf = pod_resolv_conf("ClusterFirst", "shop", NODE)
    assert conf.text() == ("search shop.svc.cluster.local svc.cluster.local cluster.local "
                           "corp.example\nnameserver 10.96.0.10\noptions ndots:5\n")


def test_default_is_the_nodes_file_and_so_is_cluster_first_on_the_host_network():
    assert pod_resolv_conf("Default", "shop", NODE) == NODE
    assert pod_resolv_conf("ClusterFirst", "shop", NODE, host_network=True) == NODE
    assert pod_resolv_conf("ClusterFirstWithHostNet", "shop", NODE,
                           host_network=True).nameservers == ("10.96.0.10",)


def test_none_is_dns_config_alone_and_options_merge_by_name():
    conf = pod_resolv_conf("None", "shop", NODE, config=DnsConfig(("1.1.1.1",), ("a.example",),
                                                                  ("ndots:2", "edns0")))
    assert conf.text() == "search a.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"
    merged = pod_resolv_conf("ClusterFirst", "shop", NODE, config=DnsConfig(options=("ndots:1",)))
    assert merged.options == ("ndots:1",) and merged.ndots == 1


def test_search_order_follows_ndots_and_the_trailing_dot():
    conf = pod_resolv_conf("ClusterFirst", "default", ResolvConf(("x",)))
    assert search_order("web", conf) == ["web.default.svc.cluster.local.",
                                         "web.svc.cluster.local.", "web.cluster.local.", "web."]
    assert search_order("web.default.svc.cluster.local.", conf) == [
        "web.default.svc.cluster.local."]
    assert search_order("a.b.c.d.e", conf)[0] == "a.b.c.d.e.default.svc.cluster.local."
    assert search_order("a.b.c.d.e.f", conf)[0] == "a.b.c.d.e.f."
    assert conf.timeout == 5 and conf.attempts == 2
