"""The layers hold, checked on the import statements themselves (every one, also inside
functions; `if TYPE_CHECKING:` blocks aside, as they never run):

- nothing below the app (playground/tui, and the tools that drive it) imports Textual;
- the dataplane (playground/net) imports nothing of the rest of the playground;
- no import loop between modules of the control plane and its adapters, nor between the
  packages of the playground (a loop through two packages is a loop, even when no single
  module closes it);
- the adapters (CNI plugins, proxy modes, load-balancer providers) import the control
  plane, never the other way: the control plane finds them by name in playground.registry,
  filled by playground/adapters.py above both.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "playground"
WIRING = {"playground", "playground.adapters"}   # where adapters and control plane meet
ADAPTERS = ("playground.cni", "playground.proxy", "playground.lb", "playground.policy",
            "playground.gateway")
CONTROL_PLANE = ("playground.cluster", *ADAPTERS)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _walk(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        if not _type_checking(child):
            yield child
            yield from _walk(child)


@cache
def imported(name: str) -> frozenset[str]:
    """Every module name an import statement of `name` names: `from a import b` names a and,
    if b is a module, a.b."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names
                      if f"{base}.{alias.name}" in modules()}
    return frozenset(found)


def _inside(name: str, packages) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_parser_sees_the_imports_it_must():
    """The checks below rest on this: a known import of each kind is found."""
    assert "textual.app" in imported("playground.tui.app")
    assert "playground.proxy.modes" in imported("playground.adapters")
    assert "playground.cluster.recipe" in imported("playground.lb.cloud")
    assert "playground.registry" in imported("playground.cluster.cluster")


# the developer tools (screenshots, the app's benchmark) drive the app: they sit above it
ABOVE_THE_APP = ["playground.tui", "playground.tools"]


@pytest.mark.parametrize("name", [m for m in modules() if not _inside(m, ABOVE_THE_APP)])
def test_nothing_below_the_app_imports_textual(name):
    assert not [m for m in imported(name) if _inside(m, ["textual"])]


@pytest.mark.parametrize("name", [m for m in modules() if _inside(m, ["playground.net"])])
def test_the_dataplane_knows_no_kubernetes(name):
    above = [m for m in imported(name) if _inside(m, ["playground"])
             and not _inside(m, ["playground.net"])]
    assert not above, f"{name} imports {above}"


def _loops(packages) -> list[list[str]]:
    graph = {name: {m for m in imported(name) if m in modules() and m != name
                    and _inside(m, packages)}
             for name in modules() if _inside(name, packages)}
    loops = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            loops.append(path[path.index(name):] + [name])
            return
        if name in done:
            return
        for other in sorted(graph.get(name, ())):
            visit(other, [*path, name])
        done.add(name)
    for name in sorted(graph):
        visit(name, [])
    return loops


def test_no_import_loop_in_the_control_plane_and_its_adapters():
    loops = _loops(CONTROL_PLANE)
    assert not loops, " -> ".join(loops[0])


def test_no_import_loop_in_the_dataplane():
    loops = _loops(["playground.net"])
    assert not loops, " -> ".join(loops[0])


def package_of(name: str) -> str:
    """playground.cluster.controllers.kubelet -> playground.cluster; playground.saves stays."""
    return ".".join(name.split(".")[:2])


def _package_loops(imports=imported) -> list[list[str]]:
    """Loops in the graph of the playground's packages (and top-level modules). The root
    package is left out: Python runs it before any module of it, so no import chooses it."""
    graph: dict[str, set[str]] = {}
    for name in modules():
        if name == "playground":
            continue
        graph.setdefault(package_of(name), set()).update(
            package_of(m) for m in imports(name)
            if m in modules() and m != "playground" and package_of(m) != package_of(name))
    loops = []
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> None:
        if package in path:
            loops.append(path[path.index(package):] + [package])
            return
        if package in done:
            return
        for other in sorted(graph.get(package, ())):
            visit(other, [*path, package])
        done.add(package)
    for package in sorted(graph):
        visit(package, [])
    return loops


def test_no_import_loop_between_packages():
    loops = _package_loops()
    assert not loops, " -> ".join(loops[0])


def test_the_package_check_sees_a_loop_of_two_packages():
    """The check above can fail: a cluster module importing a proxy mode closes one."""
    def with_loop(name: str) -> frozenset[str]:
        extra = {"playground.proxy.modes"} if name == "playground.cluster.cluster" else set()
        return imported(name) | extra
    assert ["playground.cluster", "playground.proxy", "playground.cluster"] in \
        _package_loops(with_loop)


@pytest.mark.parametrize("name", [m for m in modules() if _inside(m, ADAPTERS)])
def test_adapters_never_reach_up_to_the_wiring(name):
    assert not imported(name) & WIRING


def test_the_control_plane_imports_no_adapter():
    """It finds them by name in playground.registry. The one exception is the CNI
    protocol (playground.cni.base), which the kubelet calls and which knows no Kubernetes."""
    reaching = {name: sorted(m for m in imported(name) if _inside(m, ADAPTERS)
                             and m != "playground.cni.base")
                for name in modules() if _inside(name, ["playground.cluster"])}
    assert not {name: found for name, found in reaching.items() if found}


def test_the_cni_protocol_knows_no_kubernetes():
    assert not [m for m in imported("playground.cni.base") if _inside(m, ["playground"])
                and not _inside(m, ["playground.net"])]
