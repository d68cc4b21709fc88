"""Gateway API (gateway.networking.k8s.io, v1.5.1 followed): its objects, the API server's
checks of them, the status a Gateway controller writes, and the HTTP routing its proxy does."""
