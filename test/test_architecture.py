"""The layers of docs/architecture.md, checked on the code's own imports (lazy ones inside functions included):
a module imports only from layers below its own, or from its own layer's unit. A new module or a new layer
must be placed in LAYERS, so the rule cannot be bypassed by leaving a unit out."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lts_ros"
# Lowest first. Units on one line are peers: none imports another.
LAYERS = (
    ("", "errors"),  # "" = lts_ros/__init__.py
    ("options", "geometry", "config", "metrics", "plots"),
    ("data", "model"),
    ("artifacts", "checkpoint", "language"),
    ("runtime",),
    ("export", "ros"),
    ("bag",),
    ("bench", "sim"),
    ("train", "evaluate", "visualize", "weight_average"),
    ("demo",),
    ("cli",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """``lts_ros.runtime.backends.base`` -> ``runtime``; ``lts_ros`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The lts_ros modules ``path`` imports, wherever in the file (relative imports resolved)."""
    module, found = module_name(path), set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
            found.add(".".join(filter(None, (base, node.module))))
    return {name for name in found if name == "lts_ros" or name.startswith("lts_ros.")}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {unit_of(module_name(path)) for path in modules()}
    assert units - set(RANK) == set(), "add the new unit to LAYERS (and to docs/architecture.md)"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    own = unit_of(module_name(path))
    wrong = sorted(name for name in imported(path)
                   if (unit := unit_of(name)) != own and RANK.get(unit, -1) >= RANK[own])
    assert wrong == [], f"{own or 'lts_ros'} (layer {RANK[own]}) must not import these (docs/architecture.md)"


def test_the_check_sees_lazy_and_relative_imports(tmp_path):
    """The rule is only as good as the parser: an import inside a function and a relative import count."""
    probe = PACKAGE / "runtime" / "segmenter.py"
    assert "lts_ros.runtime.compile.onnx_export" in imported(probe)  # imported inside from_checkpoint
    fake = PACKAGE / "runtime" / "_probe_for_test.py"
    try:
        fake.write_text("def f():\n    from ..export import precision\n")
        assert imported(fake) == {"lts_ros.export"}
    finally:
        fake.unlink()


@pytest.mark.parametrize("module", ["lts_ros.options", "lts_ros.ros.params", "lts_ros.artifacts.export_manifest",
                                    "lts_ros.artifacts.engine_cache", "lts_ros.artifacts.cache_root"])
def test_vocabulary_and_artifacts_load_without_torch(module):
    """The node's parameter table and the artifact formats are read where torch is not wanted (fast start,
    small tools): importing them must not import torch."""
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
