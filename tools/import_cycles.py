"""Static import-cycle report for the kcore package.

Reads every module under kcore/ with `ast` (nothing is imported) and builds two graphs of kcore-internal
imports:

- module level: imports executed when the module is imported (top-level statements, including those inside
  top-level `if`/`try`/`with` blocks and class bodies); these are the ones that can deadlock an import;
- function level: imports written inside a function or method body (run lazily, at call time).

A `from pkg import name` counts as an import of `pkg.name` when that is a module, else of `pkg`. Importing
`a.b.c` also runs the `__init__` of `a` and `a.b`, so it adds edges to those packages too, except where they
are the importing module's own ancestors (they are already initialising when it runs: a package's `__init__`
importing its children is not a cycle by itself). The report lists the strongly connected components (SCCs) of
more than one module in each graph; the module-level graph is what the "no cycle wider than 3 modules" rule counts.

Usage: python tools/import_cycles.py [--root kcore] [--max 3]   (exits 1 when a module-level SCC is wider)
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file for every .py file below root (root's own name is the top package)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(current: str, is_package: bool, node, modules) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = _resolve(current, is_package, node)
    out = []
    for alias in node.names:
        full = f"{base}.{alias.name}"
        out.append(full if full in modules else base)
    return out


def _executed(target: str, current: str, modules) -> set[str]:
    """The kcore modules whose top level an import of target may run, seen from module current."""
    parts = target.split(".")
    ancestors = {".".join(current.split(".")[:i]) for i in range(1, current.count(".") + 2)}
    parents = {".".join(parts[:i]) for i in range(1, len(parts))}
    out = {n for n in parents if n in modules and n not in ancestors}
    if target in modules:
        out.add(target)
    return out - {current}


def import_edges(modules: dict[str, Path]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level graph, function-level graph): module -> set of kcore modules it imports."""
    top = {m: set() for m in modules}
    lazy = {m: set() for m in modules}

    def visit(node, current, is_package, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                graph = lazy if in_function else top
                for target in _targets(current, is_package, child, modules):
                    graph[current] |= _executed(target, current, modules)
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, current, is_package, inner)

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        visit(tree, name, path.name == "__init__.py", False)
    return top, lazy


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of more than one node, largest first."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return sorted(comps, key=len, reverse=True)


def report(root: Path) -> tuple[list[list[str]], list[list[str]]]:
    """(module-level SCCs, SCCs of module- plus function-level imports)."""
    modules = module_names(root)
    top, lazy = import_edges(modules)
    combined = {m: top[m] | lazy[m] for m in modules}
    return strongly_connected(top), strongly_connected(combined)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1] / "kcore"))
    parser.add_argument("--max", type=int, default=3, help="widest module-level SCC allowed")
    args = parser.parse_args(argv)
    top, combined = report(Path(args.root))
    for title, comps in (("module-level imports", top), ("module- and function-level imports", combined)):
        print(f"{title}: {len(comps)} cycle(s), largest {len(comps[0]) if comps else 0} modules")
        for comp in comps:
            print(f"  [{len(comp)}] " + ", ".join(comp))
    widest = len(top[0]) if top else 0
    return 1 if widest > args.max else 0


if __name__ == "__main__":
    sys.exit(main())
