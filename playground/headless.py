"""What the headless commands (playground/cli.py, compare_cli.py) share: a usage error in
one line, and the lab a command starts from."""

from __future__ import annotations

from playground.cluster.cluster import ClusterError
from playground.cluster.lab import build_default_lab
from playground.cluster.legs import TraceRequest
from playground.saves import is_lab_file, load_lab
from playground.session.lab import Lab


class UsageError(Exception):
    pass


def lab_files(paths: list[str]) -> list[str]:
    return [path for path in paths if is_lab_file(path)]


async def starting_lab(args) -> Lab:
    """The lab file given with -f (at most one), else the default lab."""
    labs = lab_files(args.filename)
    if len(labs) > 1:
        raise ClusterError(f"-f: give at most one lab file (got {', '.join(labs)})")
    if labs:
        return await load_lab(labs[0])
    return Lab(await build_default_lab(cni=args.cni, seed=args.seed,
                                       proxy_mode=args.proxy_mode, lb=args.lb))


def trace_request(args) -> TraceRequest:
    """What `trace`'s arguments ask for."""
    return TraceRequest(args.src, args.dst, args.proto, args.port, args.namespace, args.size,
                        args.df, args.reply, args.host, args.path,
                        getattr(args, "method", "GET"), tuple(getattr(args, "header", ())))
