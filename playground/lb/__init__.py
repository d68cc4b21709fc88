"""Load-balancer providers: who gives LoadBalancer Services their addresses and carries their
traffic to the nodes, chosen per cluster by name (a new provider: its module and one line in
playground/adapters.py). A provider is a Recipe (playground.cluster.recipe) with a `summary`
for help; a Service it cannot serve stays pending with an Event that says why."""
