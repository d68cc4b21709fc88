"""The Corefile read as CoreDNS reads it: kubeadm's default, and what CoreDNS refuses."""

import pytest

from playground.cluster.dns.corefile import DEFAULT, Config, CorefileError, parse


def test_kubeadms_corefile_gives_the_settings_the_model_runs_with():
    assert parse(DEFAULT) == Config("cluster.local.", 30, 30, ("/etc/resolv.conf",), 30.0, True)


def test_the_settings_follow_the_text():
    text = (DEFAULT.replace("cluster.local in-addr", "lab.example in-addr")
            .replace("ttl 30", "ttl 7").replace("cache 30", "cache 10")
            .replace("/etc/resolv.conf", "9.9.9.9").replace("reload\n", "reload 5s\n"))
    assert parse(text) == Config("lab.example.", 7, 10, ("9.9.9.9",), 5.0, True)


def test_without_a_plugin_its_setting_is_off_and_kubernetes_ttl_defaults_to_5():
    text = DEFAULT.replace("    cache 30\n", "").replace("    reload\n", "")
    text = text.replace("       ttl 30\n", "").replace("    loadbalance\n", "")
    config = parse(text)
    assert (config.cache, config.reload, config.ttl, config.loadbalance) == (None, None, 5,
                                                                             False)


@pytest.mark.parametrize(("text", "problem"), [
    (DEFAULT.replace("kubernetes cluster", "kubernets cluster"),
     "/etc/coredns/Corefile:7 - Error during parsing: Unknown directive 'kubernets'"),
    (DEFAULT.rstrip().removesuffix("}"), "Unexpected EOF"),
    (DEFAULT.replace("ttl 30", "ttl 9000"), "plugin/kubernetes: ttl must be in range"),
    (DEFAULT.replace("/etc/resolv.conf", "dns.example"),
     'plugin/forward: not an IP address or file: "dns.example"'),
    (DEFAULT.replace("reload\n", "reload 1s\n"), "interval value must be greater or equal"),
    (DEFAULT.replace("    loop\n", "    loop\n    cache 5\n"), "can only be used once"),
])
def test_what_coredns_refuses_is_refused_with_the_line(text, problem):
    with pytest.raises(CorefileError, match=problem.replace("[", r"\[")):
        parse(text)
