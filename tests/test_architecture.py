"""Dependencies between the packages point one way: the module-level import graph has no cycle.

Nodes are the top-level packages and modules of ``catalogue`` (``accounts``, ``search``, ``content``...).
Only imports at module level count: they are what Python runs on import. Imports inside functions
(``create_app`` listing the blueprints, the ``flask`` commands) are wiring done once everything is loaded.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "catalogue"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top(module: str) -> str | None:
    """``catalogue.search.indexer`` -> ``search``; the root package itself (the app factory) -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "catalogue" else None


def _imported(module: str, node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: resolve against the importing module's package
            base = module.split(".")[: -node.level] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        # ``from catalogue import content`` imports the module ``catalogue.content``.
        return [target] + [f"{target}.{alias.name}" for alias in node.names]
    return []


def package_graph() -> dict[str, set[str]]:
    """Top-level package -> the top-level packages its modules import at module level."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        module = _module_name(path)
        source = _top(module)
        if source is None:
            continue
        graph.setdefault(source, set())
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for target in _imported(module, node):
                top = _top(target)
                if top and top != source and _exists(top):
                    graph[source].add(top)
    return graph


def _exists(top: str) -> bool:
    return (PACKAGE / top).is_dir() or (PACKAGE / f"{top}.py").is_file()


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_package_imports_itself_through_others():
    assert cycles(package_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_demo_content_depends_on_the_features_and_never_the_reverse():
    graph = package_graph()
    assert {"projects", "practices", "contest"} <= graph["demo"]
    assert [package for package, targets in graph.items() if "demo" in targets] == []


def test_the_registry_of_content_types_depends_on_nothing_of_the_site():
    assert package_graph()["content"] == set()


def test_the_clock_depends_on_nothing_of_the_site():
    assert package_graph()["clock"] == set()
