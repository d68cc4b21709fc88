"""A pod's spec.dnsPolicy and spec.dnsConfig, checked as the API server checks them
(pkg/apis/core/validation validateDNSPolicy, validatePodDNSConfig, Kubernetes v1.31)."""

from __future__ import annotations

from ipaddress import ip_address

from playground.cluster.dns.resolv import MAX_NAMESERVERS, MAX_SEARCH, POLICIES, DnsConfig
from playground.cluster.validation import FieldError, dns1123_subdomain

MAX_SEARCH_CHARS = 2048   # MaxDNSSearchListChars


def dns_errors(policy: str, config: DnsConfig | None, spec: str = "spec") -> list[FieldError]:
    """`spec`: the path of the PodSpec (a workload's is spec.template.spec)."""
    if policy not in POLICIES:
        return [FieldError(f"{spec}.dnsPolicy", "Unsupported value", policy,
                           "supported values: " + ", ".join(f'"{p}"' for p in POLICIES))]
    if policy == "None":
        if config is None:
            return [FieldError(f"{spec}.dnsConfig", "Required value", None,
                               "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not config.nameservers:
            return [FieldError(f"{spec}.dnsConfig.nameservers", "Required value", None,
                               "must provide at least one DNS nameserver when `dnsPolicy` "
                               "is None")]
    if config is None:
        return []
    errors = []
    if len(config.nameservers) > MAX_NAMESERVERS:
        errors.append(FieldError(f"{spec}.dnsConfig.nameservers", "Invalid value",
                                 list(config.nameservers),
                                 f"must not have more than {MAX_NAMESERVERS} nameservers"))
    for index, server in enumerate(config.nameservers):
        try:
            ip_address(server)
        except ValueError:
            errors.append(FieldError(f"{spec}.dnsConfig.nameservers[{index}]", "Invalid value",
                                     server, "must be a valid IP address, (e.g. 10.9.8.7 or "
                                     "2001:db8::ffff)"))
    if len(config.searches) > MAX_SEARCH:
        errors.append(FieldError(f"{spec}.dnsConfig.searches", "Invalid value",
                                 list(config.searches),
                                 f"must not have more than {MAX_SEARCH} search paths"))
    if len(" ".join(config.searches)) > MAX_SEARCH_CHARS:
        errors.append(FieldError(f"{spec}.dnsConfig.searches", "Invalid value",
                                 list(config.searches), f"must not have more than "
                                 f"{MAX_SEARCH_CHARS} characters (including spaces) in the "
                                 "search list"))
    for index, search in enumerate(config.searches):
        name = search.removesuffix(".") if search != "." else search
        for problem in dns1123_subdomain(name):
            errors.append(FieldError(f"{spec}.dnsConfig.searches[{index}]", "Invalid value",
                                     search, problem))
    for index, option in enumerate(config.options):
        if not option.partition(":")[0]:
            errors.append(FieldError(f"{spec}.dnsConfig.options[{index}]", "Required value",
                                     None, "Option.Name must not be empty"))
    return errors
