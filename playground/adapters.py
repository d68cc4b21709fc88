"""Every adapter the lab can be assembled from, registered by name.

The adapters (playground/cni, proxy, lb, policy, gateway) import the control plane's API;
the control plane finds them by name in playground.registry and never imports them. This
module, above both, is where they meet; playground/__init__ imports it, so the registries
are full before any cluster is built. A new adapter: its own module and one line below.
"""

from playground.cluster.routing import FlannelRouting, KindnetRouting
from playground.cni.bridge import BridgePlugin
from playground.cni.cilium import CiliumPlugin, CiliumTunnelPlugin
from playground.cni.portmap import PortMapPlugin
from playground.cni.ptp import PtpPlugin
from playground.cni.vxlan import VxlanPlugin
from playground.gateway.cloud_provider_kind import CloudProviderKindGateway
from playground.gateway.envoy_gateway import EnvoyGateway
from playground.lb.cloud import CloudProvider
from playground.lb.cloud_provider_kind import CloudProviderKind
from playground.lb.metallb import MetalLBProvider
from playground.policy.cilium import CiliumPolicyEngine
from playground.policy.kube_network_policies import KubeNetworkPolicies
from playground.policy.none import NoPolicyEngine
from playground.proxy.cilium_recipe import CiliumRouting
from playground.proxy.modes import IptablesMode, IpvsMode, NftablesMode
from playground.registry import (
    CNI_META_PLUGINS,
    CNI_PLUGINS,
    GATEWAY_CONTROLLERS,
    LB_PROVIDERS,
    POLICY_ENGINES,
    PROXY_MODES,
    ROUTINGS,
)

CNI_PLUGINS.register(BridgePlugin)
CNI_PLUGINS.register(PtpPlugin)
CNI_PLUGINS.register(VxlanPlugin)
CNI_PLUGINS.register(CiliumPlugin)
CNI_PLUGINS.register(CiliumTunnelPlugin)
CNI_META_PLUGINS.register(PortMapPlugin)

ROUTINGS.register(KindnetRouting)
ROUTINGS.register(FlannelRouting)
ROUTINGS.register(CiliumRouting)

PROXY_MODES.register(IptablesMode)
PROXY_MODES.register(NftablesMode)
PROXY_MODES.register(IpvsMode)

LB_PROVIDERS.register(CloudProvider)
LB_PROVIDERS.register(MetalLBProvider)
LB_PROVIDERS.register(CloudProviderKind)

POLICY_ENGINES.register(NoPolicyEngine)
POLICY_ENGINES.register(CiliumPolicyEngine)
POLICY_ENGINES.register(KubeNetworkPolicies)

GATEWAY_CONTROLLERS.register(EnvoyGateway)
GATEWAY_CONTROLLERS.register(CloudProviderKindGateway)
