"""NetworkPolicy (networking.k8s.io/v1): the model, its selectors, and the evaluator every
policy engine asks (Kubernetes knowledge only: nothing here knows a dataplane)."""
