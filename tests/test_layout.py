"""The layout README.md promises: imports run one way between domains, no module imports another in a circle
(function-level imports count too), and no module grows past ~500 lines unless it is one idea."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("core", "standards", "credentials", "assessors", "badges")  # core ← standards ← … ← badges
MAX_LINES = 500
# Longer modules that are each one idea, with the reason they stay whole.
ONE_IDEA = {
    "badges/verifier.py": "the verification pipeline, one step after another (parse → … → dates)",
    "badges/jsonld.py": "the one JSON-LD loader and the fast canonicalisation path proved identical to PyLD",
    "standards/case.py": "parsing and checking one CASE package",
    "core/storage.py": "the evidence storage interface with its local and S3 backends",
}


def _modules() -> dict[str, Path]:
    found = {}
    for domain in DOMAINS:
        for path in (ROOT / domain).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_another_in_a_circle():
    assert _cycles(_imports(_modules())) == []


def test_the_cycle_check_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_domains_import_one_way():
    order = {domain: i for i, domain in enumerate(DOMAINS)}
    wrong = [
        (module, target)
        for module, targets in _imports(_modules()).items()
        for target in targets
        if order[target.split(".")[0]] > order[module.split(".")[0]]
    ]
    assert wrong == []


def test_modules_stay_small_unless_they_are_one_idea():
    long = {
        path.relative_to(ROOT).as_posix(): count
        for path in _modules().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert {name: count for name, count in long.items() if name not in ONE_IDEA} == {}
