"""The package's layers import only downward (ARCHITECTURE section 2), with no cycle and no import placed inside a
function to dodge one. Read from the sources (AST), so every import counts, wherever it is."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "skeleton_models"
# Each top-level module or subpackage of skeleton_models, by layer: a unit imports only units of lower layers (and
# its own modules). The package's __init__ (the public API) sits above everything.
LAYERS = [
    {"skeletons"},  # layouts
    {"augmentation"},  # clip augmentations (SLiM's skeleton-aware ones use the layouts)
    # hand clips (hands2x21); RGB frames and ROI mosaics; SLiM's multi-view sampling; the pipeline over clip arrays
    # (it travels with remote code, which names it)
    {"hands", "rgb", "multiview", "clip_pipeline"},
    {"registry"},  # what each architecture is made of
    {"configuration_utils", "remote_code", "testing_utils"},  # config base, remote-code export, test configs
    # shared blocks, processing, the model base, the registry of conversions from official checkpoints
    {"layers", "processing_skeleton", "modeling_utils", "conversion"},
    {"models"},
    {"data"},
    {"training", "visualization", "pipelines", "export"},  # training recipes; figures of clips and models
    {"demo"},  # the Gradio demo (pipeline + animation)
    {"zoo"},
    {"hub"},  # cards, push, the zoo catalog
    {"cli"},
]
RANK = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether a dotted name is a module or package of skeleton_models (``from pkg import submodule``)."""
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path):
    """(imported module, line, inside a function) for every import of skeleton_models in a file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    nested = {id(inner) for f in functions for inner in ast.walk(f) if inner is not f}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                root = f"{base}.{node.module}" if node.module else base
            else:
                root = node.module
            targets = [f"{root}.{a.name}" if is_module(f"{root}.{a.name}") else root for a in node.names]
        else:
            continue
        for target in targets:
            if target == "skeleton_models" or target.startswith("skeleton_models."):
                yield target, node.lineno, id(node) in nested


def unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def graph():
    return {module_name(p): list(imports(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_unit_has_a_layer():
    units = {unit(m) for m in graph()} - {None}
    assert units == set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"


def test_layers_import_only_downward():
    upward = []
    for module, targets in graph().items():
        source = unit(module)
        if source is None:  # the package's __init__: the public API, above every layer
            continue
        for target, line, _ in targets:
            dest = unit(target)
            if dest is None or (dest != source and RANK[dest] >= RANK[source]):
                upward.append(f"{module}:{line} imports {target}")
    assert not upward, "imports that do not go down a layer:\n" + "\n".join(upward)


def test_no_import_inside_a_function():
    inside = [f"{m}:{line} imports {t}" for m, targets in graph().items() for t, line, nested in targets if nested]
    assert not inside, "imports of skeleton_models inside functions:\n" + "\n".join(inside)


def test_no_import_cycle():
    modules = graph()
    edges = {m: {t for t, _, _ in targets if t in modules and t != m} for m, targets in modules.items()}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
