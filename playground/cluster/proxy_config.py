"""kube-proxy's options that change the rules it writes (KubeProxyConfiguration,
kubeproxy.config.k8s.io/v1alpha1), with kube-proxy's defaults, and the checks its
validation makes (pkg/proxy/apis/config/validation)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from ipaddress import IPv4Address, IPv4Network, ip_network

from playground.cluster.objects import Named, ObjectMeta, ValidationError

DETECT_LOCAL_MODES = ("ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix")
PRIMARY = "primary"   # nodePortAddresses: the node's primary IP alone (server.go resolves it)
_LOOPBACK_START = IPv4Address("127.0.0.0")


@dataclass(frozen=True)
class ProxyOptions:
    """The fields of a KubeProxyConfiguration the proxiers read (each mode its own)."""

    masquerade_all: bool = False          # masqueradeAll
    masquerade_bit: int = 14              # iptables.masqueradeBit
    localhost_node_ports: bool = True     # iptables.localhostNodePorts
    detect_local_mode: str = "ClusterCIDR"      # detectLocalMode
    cluster_cidr: str = ""                # clusterCIDR; empty: the lab's pod network
    bridge_interface: str = ""            # detectLocal.bridgeInterface
    interface_name_prefix: str = ""       # detectLocal.interfaceNamePrefix
    node_port_addresses: tuple[str, ...] = ()   # nodePortAddresses; empty: every address

    def node_port_cidrs(self, node_ip: str | None = None) -> list[IPv4Network] | None:
        """The IPv4 CIDRs node ports are open on, as NewNodePortAddresses reads them;
        None when they match every address (none given, none IPv4, or a 0.0.0.0/0)."""
        if self.node_port_addresses == (PRIMARY,):
            return [IPv4Network(f"{node_ip}/32")] if node_ip else None
        cidrs = []
        for text in self.node_port_addresses:
            cidr = ip_network(text, strict=False)
            if cidr.version != 4:
                continue   # the IPv6 proxier's
            if cidr.prefixlen == 0:
                return None
            cidrs.append(cidr)
        return cidrs or None

    @property
    def localhost_node_ports_on(self) -> bool:
        """localhostNodePorts as the proxier ends up using it: off unless nodePortAddresses
        hold a loopback address (ContainsIPv4Loopback); "primary" never does."""
        if not self.localhost_node_ports or self.node_port_addresses == (PRIMARY,):
            return False
        cidrs = self.node_port_cidrs()
        return cidrs is None or any(c.network_address.is_loopback or _LOOPBACK_START in c
                                    for c in cidrs)
    nft_masquerade_all: bool = False      # nftables.masqueradeAll (the nftables mode's own)
    nft_masquerade_bit: int = 14          # nftables.masqueradeBit

    @property
    def mark(self) -> str:
        """The masquerade mark as iptables-save prints it (value/mask)."""
        value = f"{1 << self.masquerade_bit:#x}"
        return f"{value}/{value}"

    @property
    def mark_value(self) -> str:
        return f"{1 << self.masquerade_bit:#x}"

    def problems(self) -> list[str]:
        """What kube-proxy's validation says of these options, one line each."""
        found = []
        if not 0 <= self.masquerade_bit <= 31:
            found.append(f"iptables.masqueradeBit: Invalid value: {self.masquerade_bit}: "
                         "must be within the range [0, 31]")
        if self.detect_local_mode not in DETECT_LOCAL_MODES:
            found.append(f"detectLocalMode: Unsupported value: \"{self.detect_local_mode}\": "
                         "supported values: " + ", ".join(f'"{m}"' for m in DETECT_LOCAL_MODES))
        if self.detect_local_mode == "BridgeInterface" and not self.bridge_interface:
            found.append("detectLocal.bridgeInterface: Required value: must not be empty when "
                         "detectLocalMode is BridgeInterface")
        if self.detect_local_mode == "InterfaceNamePrefix" and not self.interface_name_prefix:
            found.append("detectLocal.interfaceNamePrefix: Required value: must not be empty "
                         "when detectLocalMode is InterfaceNamePrefix")
        if not 0 <= self.nft_masquerade_bit <= 31:
            found.append(f"nftables.masqueradeBit: Invalid value: {self.nft_masquerade_bit}: "
                         "must be within the range [0, 31]")
        if self.cluster_cidr:
            try:
                IPv4Network(self.cluster_cidr)
            except ValueError:
                found.append(f"clusterCIDR: Invalid value: \"{self.cluster_cidr}\": must be a "
                             "valid CIDR")
        found += node_port_address_problems(self.node_port_addresses)
        return found


def node_port_address_problems(addresses: tuple[str, ...] | list[str]) -> list[str]:
    """validateKubeProxyNodePortAddress: CIDRs, or "primary" alone."""
    for index, text in enumerate(addresses):
        where = f"nodePortAddresses[{index}]: Invalid value: \"{text}\": "
        if text == PRIMARY:
            if index != 0 or len(addresses) != 1:
                return [where + "can't use both 'primary' and CIDRs"]
            break
        try:
            ip_network(text, strict=False)
            if "/" not in text:
                raise ValueError(text)
        except ValueError:
            return [where + "must be a valid CIDR"]
    return []


DEFAULT_OPTIONS = ProxyOptions()

# the object's fields by their path in a KubeProxyConfiguration (v1alpha1)
FIELDS = {"clusterCIDR": "cluster_cidr", "detectLocalMode": "detect_local_mode",
          "detectLocal.bridgeInterface": "bridge_interface",
          "detectLocal.interfaceNamePrefix": "interface_name_prefix",
          "iptables.masqueradeAll": "masquerade_all",
          "iptables.masqueradeBit": "masquerade_bit",
          "iptables.localhostNodePorts": "localhost_node_ports",
          "nftables.masqueradeAll": "nft_masquerade_all",
          "nftables.masqueradeBit": "nft_masquerade_bit",
          "nodePortAddresses": "node_port_addresses",
          "ipvs.strictARP": "strict_arp"}
NAME, NAMESPACE = "kube-proxy", "kube-system"   # kubeadm's ConfigMap of it


@dataclass
class KubeProxyConfiguration(Named):
    """The options every node's kube-proxy runs with (kubeadm keeps them in the kube-proxy
    ConfigMap; here they are one object). A change restarts the proxies: they sync again."""

    metadata: ObjectMeta
    masquerade_all: bool = False
    masquerade_bit: int = 14
    localhost_node_ports: bool = True
    detect_local_mode: str = "ClusterCIDR"
    cluster_cidr: str = ""
    bridge_interface: str = ""
    interface_name_prefix: str = ""
    nft_masquerade_all: bool = False
    nft_masquerade_bit: int = 14
    strict_arp: bool = False   # ipvs.strictARP: the IPVS proxier sets arp_ignore 1, arp_announce 2
    node_port_addresses: list[str] = field(default_factory=list)
    kind: str = "KubeProxyConfiguration"

    def options(self) -> ProxyOptions:
        values = {f.name: getattr(self, f.name) for f in fields(ProxyOptions)}
        values["node_port_addresses"] = tuple(values["node_port_addresses"])
        return ProxyOptions(**values)


def validate_proxy_config(config: KubeProxyConfiguration) -> None:
    if (config.metadata.namespace, config.name) != (NAMESPACE, NAME):
        raise ValidationError(f"KubeProxyConfiguration {config.key}: the lab has one, "
                              f"{NAMESPACE}/{NAME}")
    addresses = config.node_port_addresses
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ValidationError(f"KubeProxyConfiguration {config.key}: nodePortAddresses must "
                              "be a list of CIDRs")
    for path, attribute in FIELDS.items():
        if attribute == "node_port_addresses":
            continue
        wanted = bool if attribute in ("masquerade_all", "localhost_node_ports",
                                       "strict_arp", "nft_masquerade_all") else \
            int if attribute in ("masquerade_bit", "nft_masquerade_bit") else str
        value = getattr(config, attribute)
        if type(value) is not wanted:
            raise ValidationError(f"KubeProxyConfiguration {config.key}: {path} must be a "
                                  f"{wanted.__name__}")
    problems = config.options().problems()
    if problems:
        raise ValidationError(f"KubeProxyConfiguration {config.key}: {problems[0]}")
