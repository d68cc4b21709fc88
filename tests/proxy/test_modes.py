"""The proxy modes a user chooses from, and how a deprecated one is labelled."""

from playground.cli import build_parser
from playground.proxy.modes import PROXY_MODES, mode_label, modes_help


def test_ipvs_is_labelled_deprecated_with_its_timeline():
    assert mode_label("ipvs") == "ipvs (deprecated)"
    assert mode_label("iptables") == "iptables"
    assert "ipvs (deprecated since Kubernetes 1.35: off by default in 1.40, removed in 1.43)" \
        in modes_help()


def test_the_cli_help_names_every_mode_and_the_deprecation():
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["trace"]
                         .format_help().split())
    for mode in PROXY_MODES:
        assert mode in help_text
    assert "deprecated since Kubernetes 1.35" in help_text
