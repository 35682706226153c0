"""Layer modules import at module level: an import inside a function hides a dependency from import-linter's reader.

The app factory (`user_management/__init__.py`), the CLI (`commands.py`) and the
gunicorn config may import lazily, as flaskr's factory does; nothing else may.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("controllers", "middleware", "models", "routes", "schemas", "services", "utils", "web")
TOP_LEVEL = ("config.py", "exceptions.py", "extensions.py")


def layer_files():
    """Every module of the layers of user_management, and all of servicekit."""
    package = ROOT / "user_management"
    files = [path for layer in LAYERS for path in sorted((package / layer).rglob("*.py"))]
    files += [package / name for name in TOP_LEVEL]
    files += sorted((ROOT / "servicekit").rglob("*.py"))
    return files


def imports_inside_functions(source):
    """(line, statement) of each import written inside a function or method."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            found += [(inner.lineno, ast.unparse(inner)) for inner in ast.walk(node)
                      if isinstance(inner, (ast.Import, ast.ImportFrom))]
    return sorted(set(found))


def test_the_check_sees_imports_in_functions_and_methods_but_not_at_module_level():
    source = (
        "import os\n"
        "def f():\n"
        "    from .other import g\n"
        "class C:\n"
        "    def m(self):\n"
        "        if True:\n"
        "            import json\n"
    )
    assert imports_inside_functions(source) == [(3, "from .other import g"), (7, "import json")]


def test_every_layer_is_checked():
    names = {path.relative_to(ROOT).parts[1] for path in layer_files()}
    assert set(LAYERS) <= names and "errors.py" in names
    assert ROOT / "user_management" / "__init__.py" not in layer_files()


@pytest.mark.parametrize("path", layer_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_import_inside_a_function(path):
    offenders = imports_inside_functions(path.read_text(encoding="utf-8"))
    assert not offenders, f"{path.relative_to(ROOT)} imports inside functions: {offenders}"
