"""The package's shape: layers that import only downward, and the one list of stages."""

from __future__ import annotations

import ast
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


def _imports(path: Path) -> list[str]:
    """Every beam_swallow module a file imports, at module level or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.startswith("beam_swallow.")]
    return found


def _edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module == "beam_swallow":
            continue
        edges += [(module, imported) for imported in _imports(path)]
    return edges


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
