"""The engine and model layers must never import Qt or pyqtgraph (DESIGN.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import bceviz

PKG = Path(bceviz.__file__).parent
FORBIDDEN = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_engine_and_model_sources_do_not_import_qt():
    offenders = []
    for layer in ("engine", "model"):
        files = sorted((PKG / layer).rglob("*.py"))
        assert files, f"bceviz/{layer} has no modules"
        for path in files:
            for name in _imports(path):
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(PKG)} imports {name}")
    assert not offenders, offenders


def test_importing_engine_and_model_loads_no_qt_module():
    code = (
        "import sys, bceviz.engine, bceviz.model, pkgutil, importlib\n"
        "import bceviz.engine as e, bceviz.model as m\n"
        "for pkg in (e, m):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"bad = [n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
