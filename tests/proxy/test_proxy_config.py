"""The lab's KubeProxyConfiguration: read with kubectl get, changed with kubectl patch,
kept in the lab file; a change makes every node's kube-proxy write its rules again."""

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import send
from playground.proxy.rules import node_rules
from playground.saves import load_lab, load_lab_bytes, pack_lab, save_lab
from playground.session.lab import Lab
from playground.shell import Shell


def rules_of(lab, node="kind-worker", table="nat"):
    return lab.node_namespace(node).netfilter.save([table]).splitlines()


async def test_kube_proxy_runs_with_its_defaults_until_the_options_are_written(lab):
    shell = Shell(lab)
    get = "kubectl get kubeproxyconfiguration -n kube-system"
    assert (await shell.run(get)).output == "No resources found in kube-system namespace.\n"
    await shell.run('kubectl patch kubeproxyconfiguration kube-proxy -n kube-system -p '
                    '\'{"iptables":{"masqueradeBit":15}}\'')
    text = (await shell.run(get)).output
    assert text.splitlines()[0].split() == ["NAME", "MASQUERADE-ALL", "MASQUERADE-BIT",
                                            "LOCALHOST-NODEPORTS", "DETECT-LOCAL",
                                            "CLUSTER-CIDR", "NODEPORT-ADDRESSES", "AGE"]
    assert text.splitlines()[1].split()[:7] == ["kube-proxy", "false", "15", "true",
                                                "ClusterCIDR", "<cluster>", "<all>"]
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x8000/0x8000" in rules_of(lab)


async def test_patching_the_options_rewrites_every_nodes_rules(lab):
    shell = Shell(lab)
    await shell.run('kubectl patch kubeproxyconfiguration kube-proxy -n kube-system -p '
                    '\'{"iptables":{"masqueradeAll":true,"masqueradeBit":5,'
                    '"localhostNodePorts":false},"detectLocalMode":"BridgeInterface",'
                    '"detectLocal":{"bridgeInterface":"cni0"}}\'')
    for node in ("kind-control-plane", "kind-worker"):
        nat = rules_of(lab, node)
        assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x20/0x20" in nat
        web = next(line for line in nat if line.startswith("-A KUBE-SVC-")
                   and "default/web:http cluster IP" in line)
        assert web.startswith("-A KUBE-SVC-") and " ! -s " not in web   # masqueradeAll
        assert any("! -d 127.0.0.0/8 -m comment --comment \"kubernetes service nodeports"
                   in line for line in nat)
        assert "-m mark --mark 0x20/0x20 -j ACCEPT" in "\n".join(rules_of(lab, node, "filter"))
    await shell.run('kubectl patch kubeproxyconfiguration kube-proxy -n kube-system -p '
                    '\'{"iptables":{"masqueradeAll":false}}\'')
    web = next(line for line in rules_of(lab) if line.startswith("-A KUBE-SVC-")
               and "default/web:http cluster IP" in line)
    assert "! -i cni0" in web


async def test_what_the_shared_table_shows_is_a_full_rebuild_with_the_new_options(lab):
    await lab.update_proxy_config("kube-proxy", "kube-system", masquerade_bit=3,
                                  detect_local_mode="InterfaceNamePrefix",
                                  interface_name_prefix="veth")
    config = lab.api.peek("KubeProxyConfiguration", "kube-system", "kube-proxy")
    slices = {}
    for slice_ in lab.api.list("EndpointSlice"):
        slices.setdefault(slice_.service, []).append(slice_)
    expected = node_rules(lab.api.list("Service"), slices, "kind-worker", lab.cluster_cidr,
                          config.options())
    shown = lab.node_namespace("kind-worker").netfilter
    for table in ("nat", "filter"):
        for chain, lines in getattr(expected, table).items():
            assert [r.spec() for r in shown.chain(table, chain).rules] == lines, chain


async def test_bad_options_are_refused_and_change_nothing(lab):
    before = rules_of(lab)
    with pytest.raises(ClusterError, match="iptables.masqueradeBit: Invalid value: 32: must "
                                           "be within the range"):
        await lab.update_proxy_config("kube-proxy", "kube-system", masquerade_bit=32)
    with pytest.raises(ClusterError, match="detectLocal.bridgeInterface: Required value"):
        await lab.update_proxy_config("kube-proxy", "kube-system",
                                      detect_local_mode="BridgeInterface")
    assert rules_of(lab) == before


async def test_the_options_are_kept_in_the_lab_file(lab, tmp_path):
    await lab.update_proxy_config("kube-proxy", "kube-system", masquerade_all=True)
    before = rules_of(lab)
    path = tmp_path / "options.k8slab"
    await save_lab(Lab(lab), path)
    loaded = await load_lab(path)
    try:
        config = loaded.cluster.api.peek("KubeProxyConfiguration", "kube-system", "kube-proxy")
        assert config.masquerade_all is True
        assert rules_of(loaded.cluster) == before
    finally:
        await loaded.close()


async def test_a_loaded_lab_syncs_its_services_whichever_watch_comes_last():
    """The options' watch may hold a burst's last event: the Services waiting for it sync."""
    ptp = await build_default_lab(cni="ptp")
    loaded = await load_lab_bytes(pack_lab(Lab(ptp)))
    try:
        assert send(loaded.cluster, "pod/client", "svc/web").verdict == "delivered"
    finally:
        await loaded.close()
        await ptp.stop()
