"""Check the model against the real kernel: build the lab from namespaces, send, compare."""
