"""The package's architecture: layers that import only downwards, and no import cycles.

Every module of ``course_utils`` belongs to a layer (a new module must be placed here). A module may
import modules of lower layers; within the bottom, middle and top layers it may also import its
neighbours, as long as no cycle forms; a topic module imports no other topic module.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "course_utils"

LAYERS = {
    "bottom": {"course_utils", "course_utils._setup", "course_utils.data", "course_utils.kernels",
               "course_utils.transforms", "course_utils.metrics", "course_utils.plotting"},
    "middle": {"course_utils.models", "course_utils.training", "course_utils.zoo",
               "course_utils.inspection"},
    "topics": {"course_utils.featviz", "course_utils.double_descent", "course_utils.attacks",
               "course_utils.transfer", "course_utils.autoencoders"},
    "top": {"course_utils.__main__", "course_utils.views", "course_utils.exercises",
            "course_utils.classroom", "course_utils.publish"},
}
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    for layer, members in LAYERS.items():
        # views.* and exercises.* belong to the layer of their package.
        if module in members or any(module.startswith(m + ".") for m in members if m != "course_utils"):
            return layer
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def imports_of(module: str) -> set[str]:
    """The course_utils modules that ``module`` imports, anywhere in its code (lazy imports too)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from course_utils import data" names a module; "from course_utils.data import x"
            # imports from one.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in MODULES and name != module}
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    here = ORDER.index(layer_of(module))
    for target in GRAPH[module]:
        there = ORDER.index(layer_of(target))
        assert there <= here, f"{module} ({ORDER[here]}) imports {target} ({ORDER[there]})"
        if ORDER[here] == "topics":
            assert there < here, f"topic module {module} imports the topic module {target}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_there_are_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checks_see_imports_and_cycles():
    assert "course_utils.data" in GRAPH["course_utils.zoo"]
    assert "course_utils.kernels" in GRAPH["course_utils.inspection"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
