"""The house rules (docs/architecture.md), checked by walking the package's imports with ast,
those inside functions included: no import cycle between modules, arrows only point down the
layers, our own modules never imported inside a function, typer and rich only in the CLI."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "corpuskit"

# layer -> the layers it may import (itself included)
ALLOWED = {
    "root": {"root"},
    "core": {"root", "core"},
    "io": {"root", "core", "io"},
    "tokens": {"root", "core", "tokens"},
    "stages": {"root", "core", "io", "tokens", "stages"},
    "registry": {"root", "core", "registry"},
    "engine": {"root", "core", "engine"},
    "pipeline": {"root", "core", "io", "tokens", "registry", "engine", "pipeline"},
    "cli": {"root", "core", "io", "registry", "pipeline", "cli"},
    "main": {"cli"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] == "__main__":
        return "main"
    if parts[1] == "registry":
        return "registry"
    return parts[1]


def stage_unit(mod: str) -> str:
    """corpuskit.stages.dedup.minhash -> corpuskit.stages.dedup (a stage and its helpers)."""
    return ".".join(mod.split(".")[:3])


def resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def collect() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported module or package, line, inside a function)]"""
    known = {module_name(p) for p in PKG.rglob("*.py") if "data" not in p.relative_to(PKG).parts}
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for path in sorted(PKG.rglob("*.py")):
        if "data" in path.relative_to(PKG).parts:
            continue
        mod = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out[mod] = list(_imports(tree, mod, path.name == "__init__.py", known, False))
    return out


def _imports(node: ast.AST, mod: str, is_pkg: bool, known: set[str], in_func: bool):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for a in child.names:
                yield a.name, child.lineno, in_func
        elif isinstance(child, ast.ImportFrom):
            base = resolve(mod, is_pkg, child)
            for a in child.names:
                full = f"{base}.{a.name}"
                yield (full if full in known else base), child.lineno, in_func
        inner = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _imports(child, mod, is_pkg, known, inner)


IMPORTS = collect()


def own(name: str) -> bool:
    return name == "corpuskit" or name.startswith("corpuskit.")


def test_the_walk_sees_the_package():
    # a check that finds nothing checks nothing
    assert len(IMPORTS) > 30
    assert any(own(n) for deps in IMPORTS.values() for n, _, _ in deps)


# the command's entry point imports the command inside its guard against Ctrl-C (a Ctrl-C
# during the imports ends the command with one line and exit 130, not a traceback)
INSIDE_A_FUNCTION = {("corpuskit.cli", "corpuskit.cli.app")}


def test_no_own_module_imported_inside_a_function():
    bad = [f"{m}:{line} imports {n}" for m, deps in IMPORTS.items() for n, line, inner in deps
           if inner and own(n) and (m, n) not in INSIDE_A_FUNCTION]
    assert not bad, "\n".join(bad)


def test_arrows_point_down_the_layers():
    bad = []
    for m, deps in IMPORTS.items():
        for n, line, _ in deps:
            if not own(n):
                continue
            src, dst = layer(m), layer(n)
            if dst not in ALLOWED[src]:
                bad.append(f"{m}:{line} ({src}) imports {n} ({dst})")
            elif src == "stages" and dst == "stages" and n != "corpuskit.stages" \
                    and stage_unit(n) != stage_unit(m):
                bad.append(f"{m}:{line} imports another stage, {n}")
            elif src in ("io", "tokens") and dst != src and dst not in ("core", "root"):
                bad.append(f"{m}:{line} ({src}) imports {n}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in IMPORTS}
    for m, deps in IMPORTS.items():
        for n, _, _ in deps:
            while n and n not in graph:  # `from pkg import name` where name is not a module
                n = n.rpartition(".")[0]
            if n and n != m and own(n):
                # importing a submodule runs its package's __init__ first; a package's own
                # __init__ re-exporting its submodules is not a cycle through them
                if not (m == n.rpartition(".")[0] and n.startswith(m + ".")):
                    graph[m].add(n)
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                got = dfs(v)
                if got:
                    return got
        stack.pop()
        state[u] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = dfs(m)
            assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("lib", ["typer", "rich"])
def test_only_the_cli_imports_typer_and_rich(lib):
    bad = [f"{m}:{line}" for m, deps in IMPORTS.items() for n, line, _ in deps
           if (n == lib or n.startswith(lib + ".")) and layer(m) != "cli"]
    assert not bad, bad


def test_registry_names_stage_modules_only():
    from corpuskit.registry import REGISTRY

    for name, target in REGISTRY.items():
        mod = target.partition(":")[0]
        assert layer(mod) == "stages", (name, target)
        assert mod.split(".")[2] == name.replace("-", "_"), f"{name} lives in {mod}"
