"""The package's shape: layers that import only downward, no import cycle inside a
folder, and the one list of stages."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import beam_swallow
from beam_swallow import transforms
from beam_swallow.pipelines.recipes import CODE_RECIPES, MATH_RECIPES
from beam_swallow.pipelines.registry import DEDUP_STAGES

PACKAGE = Path(beam_swallow.__file__).parent

# Floors, bottom first. A module may import its own top-level package or modules
# of a lower floor, never of its own floor's other packages or of a higher one.
LAYERS = [
    {"records", "machine"},
    {"files"},
    {"stage", "jsonl", "languages"},
    {"samples", "io", "linting", "dedup", "inference", "cache"},
    {"prompts", "report", "sources"},
    {"transforms", "streaming"},
    {"testing"},
    {"options"},
    {"reporting"},
    {"pipelines", "lint_score"},
    {"cli"},
]
FLOOR = {name: level for level, names in enumerate(LAYERS) for name in names}


def _top(module: str) -> str:
    return module.split(".")[1]


def _import_nodes(path: Path) -> list[tuple[str, list[str]]]:
    """Each import of a file, at module level or inside functions: (module, names)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def _imports(path: Path) -> list[str]:
    """Every beam_swallow module a file imports, at module level or inside functions."""
    return [module for module, _ in _import_nodes(path) if module.startswith("beam_swallow.")]


def _modules() -> dict[str, Path]:
    """The package's modules by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _edges() -> list[tuple[str, str]]:
    return [
        (module, imported)
        for module, path in _modules().items()
        if module != "beam_swallow"
        for imported in _imports(path)
    ]


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports; ``from package import module`` counts
    the module, and a TYPE_CHECKING import counts too (it is a circle all the same)."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        named = set()
        for imported, names in _import_nodes(path):
            named |= {imported, *(f"{imported}.{name}" for name in names)}
        graph[module] = {name for name in named if name in modules and name != module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (its first module repeated at its end), or []."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def test_every_package_has_a_floor():
    tops = {_top(module) for module, _ in _edges()}
    assert tops <= set(FLOOR), tops - set(FLOOR)


def test_imports_only_point_down():
    upward = [
        (module, imported)
        for module, imported in _edges()
        if _top(module) != _top(imported) and FLOOR[_top(imported)] >= FLOOR[_top(module)]
    ]
    assert upward == []


def test_no_import_cycle_inside_the_package():
    # each folder's modules import in one direction: a circle (config -> tokens -> embedded
    # -> config) imports only because one of its imports waits inside a function
    assert _cycle(_import_graph()) == []


def test_the_cycle_check_sees_a_circle():
    planted = {"a.config": {"a.kafka"}, "a.kafka": {"a.messages"}, "a.messages": {"a.config"}}
    assert sorted(set(_cycle({**planted, "a.windows": {"a.config"}}))) == sorted(planted)
    graph = _import_graph()
    # `from package import module` and imports inside functions are edges
    assert "beam_swallow.linting.score" in graph["beam_swallow.transforms.lint_cache"]
    assert "beam_swallow.inference.embedded" in graph["beam_swallow.inference"]
    assert "beam_swallow.inference.gguf" in graph["beam_swallow.inference.tokens"]


def test_the_layer_check_sees_an_upward_import():
    # the check itself can fail: an edge from the bottom floor to the top one is upward
    assert FLOOR[_top("beam_swallow.cli")] > FLOOR[_top("beam_swallow.records")]
    assert ("beam_swallow.pipelines.runner", "beam_swallow.io") in _edges()


def test_one_list_of_stages_with_one_name_each():
    names = [stage.stage for stage in transforms.STAGES]
    assert names == [
        "fetch",
        "syntax",
        "lint",
        "exact_dedup",
        "near_dedup",
        "decontaminate",
        "sgcr",
        "scor",
        "math_rewrite",
        "format",
        "length",
        "score",
        "rewrite",
        "reformat",
        "lint_errors",
        "math_extract",
        "math_styles",
    ]
    for stage in transforms.STAGES:
        module = stage.__module__.rsplit(".", 1)[1]
        assert module == stage.stage, (stage, module)
        assert stage.__name__.lower() == stage.stage.replace("_", "")
    recipes = [*CODE_RECIPES.values(), *MATH_RECIPES.values()]
    registered = set(DEDUP_STAGES).union(*(stages for stages, _ in recipes))
    assert registered == set(names)
