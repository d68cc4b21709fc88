"""`k8s-playground serve`: the app in a browser, through textual-serve, for a workshop; each
browser tab that connects starts its own app (its own lab) on this machine."""

from __future__ import annotations

import shlex
import sys

from playground.cluster.errors import ClusterError

LOCAL = "127.0.0.1"   # only this machine, unless --host says otherwise


def serve(port: int, host: str = LOCAL, lab_file: str | None = None) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ClusterError("serve needs textual-serve: pip install textual-serve") from None
    words = [sys.executable, "-m", "playground.cli", *(["open", lab_file] if lab_file else [])]
    Server(shlex.join(words), host=host, port=port, title="k8s-playground").serve()
    return 0
