"""The shape of a Gateway controller the lab runs, and which ones run: each is an adapter
registered by its controllerName in playground.registry (filled by playground/adapters.py);
one installed in every lab (Envoy Gateway), others brought by the load-balancer provider
chosen (its recipe's `gateway_controllers`)."""

from __future__ import annotations

from playground.registry import GATEWAY_CONTROLLERS


class GatewayController:
    """What the control plane asks of a Gateway controller; a subclass says the rest."""

    name = ""              # its controllerName
    title = ""             # as a status message names it
    everywhere = False     # installed in every lab, whatever the provider
    namespace = ""         # where it keeps the objects it makes ("" if none)
    accepted_class = "Valid GatewayClass"   # its GatewayClass Accepted message

    def serves(self, cluster, gw) -> bool:
        """It acts on this Gateway: by default, the Gateway's class names its controller."""
        gc = cluster.api.peek("GatewayClass", "", gw.gateway_class_name)
        return gc is not None and gc.controller_name == self.name

    def writes_status(self, cluster, gw) -> bool:
        """Its sync of the Gateway got as far as writing status (and its routes')."""
        return True

    def gateway_classes(self) -> list:
        """The GatewayClasses it creates when it starts."""
        return []

    def addresses(self, cluster, gw) -> list[str]:
        """The Gateway's status.addresses."""
        return []

    def gateway_conditions(self, cluster, gw, listeners, addresses) -> list:
        """Accepted and Programmed, from its listeners' views and its addresses."""
        raise NotImplementedError

    async def reconcile(self, cluster) -> None:
        """Make what each Gateway it serves needs and remove what no Gateway needs now."""

    def node_network_addresses(self, cluster) -> set:
        """Addresses its own machines hold on the node network (none by default)."""
        return set()

    # the status it writes: a subclass says each

    def listener_conditions(self, cluster, gw, listener) -> list:
        raise NotImplementedError

    def supported_kinds(self, listener) -> list[str]:
        raise NotImplementedError

    route_messages: dict[str, str] = {}   # its HTTPRoute Accepted messages, by reason

    def route_problem(self, route) -> str:
        """What of the route it does not take (the route is then not Accepted), or ""."""
        return ""

    def resolved_refs(self, cluster, route):
        """The route's ResolvedRefs condition."""
        raise NotImplementedError

    def follow(self, cluster, trace, request):
        """When `trace` ended at one of its proxies, what the proxy does with the request
        (a playground.cluster.legs Leg), else None."""
        return None


def running(cluster) -> list[GatewayController]:
    """The controllers of this lab: those in every lab, then its provider's."""
    names = [name for name, c in GATEWAY_CONTROLLERS.items() if c.everywhere]
    names += [name for recipe in cluster.recipes for name in recipe.gateway_controllers
              if name not in names]
    return [GATEWAY_CONTROLLERS.find(name)() for name in names]


def controller_named(cluster, name: str) -> GatewayController | None:
    return next((c for c in running(cluster) if c.name == name), None)


def controller_of(cluster, gw) -> GatewayController | None:
    """The running controller that serves this Gateway, if any."""
    return next((c for c in running(cluster) if c.serves(cluster, gw)), None)


def managed_namespaces() -> set[str]:
    """Namespaces Gateway controllers keep their own objects in (not a user's to export)."""
    return {c.namespace for c in GATEWAY_CONTROLLERS.values() if c.namespace}


async def start(cluster) -> None:
    """Each controller's GatewayClasses (a loaded lab has them already), then its proxies;
    no lab time passes (a lab that has no Gateways is as it was)."""
    for controller in running(cluster):
        for gc in controller.gateway_classes():
            if cluster.api.peek("GatewayClass", "", gc.name) is None:
                cluster.api.create(gc)
        await controller.reconcile(cluster)


def node_network_addresses(cluster) -> set:
    return {a for c in running(cluster) for a in c.node_network_addresses(cluster)}


async def reconcile(cluster) -> None:
    for controller in running(cluster):
        await controller.reconcile(cluster)
    await cluster.settle()
