"""The code's shape: imports go one way (app -> callbacks -> layouts -> queries) with no cycle,
deferred imports included, and the environment is read in one place."""

from __future__ import annotations

import ast
from pathlib import Path

from app.config import Config
from tests.conftest import REPO_ROOT

LAYERS = ("queries", "layouts", "callbacks", "app")  # each may import only those before it
# Where settings are read: the app's (Config.from_env) and gunicorn's own settings file.
READS_ENVIRONMENT = {"app/config.py", "app/gunicorn_conf.py"}


def modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in (REPO_ROOT / layer).rglob("*.py"):
            name = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(tree: ast.AST, known: dict) -> set[str]:
    """The project modules a module imports anywhere in it (a function's imports too)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module, not the package's own code.
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            names |= (submodules & known.keys()) or {node.module}
    return names & known.keys()


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(ast.parse(path.read_text()), known) - {name}
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_imports_go_one_way():
    upward = [f"{source} -> {target}" for source, targets in import_graph().items()
              for target in sorted(targets) if layer(target) > layer(source)]
    assert upward == []


def test_only_the_configuration_reads_the_environment():
    readers = set()
    for path in modules().values():
        text = path.read_text()
        if "os.environ" in text or "os.getenv" in text:
            readers.add(path.relative_to(REPO_ROOT).as_posix())
    assert readers == READS_ENVIRONMENT


def test_derived_folders_follow_the_configured_ones(tmp_path):
    config = Config(duckdb_path=tmp_path / "db" / "growth.duckdb")
    assert config.cache_dir == tmp_path / "db" / "cache"
    assert config.background_dir == tmp_path / "db" / "background"
    config = Config(duckdb_path=tmp_path / "growth.duckdb", cache_dir=tmp_path / "c" / "cache")
    assert config.background_dir == tmp_path / "c" / "background"
    from_env = Config.from_env({"DUCKDB_PATH": str(tmp_path / "growth.duckdb")})
    assert (from_env.cache_dir, from_env.background_dir) == (tmp_path / "cache",
                                                             tmp_path / "background")
