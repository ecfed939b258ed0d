"""The shape rules of the source tree: tables live in ``<package>/tables.py``, and every one of
those is what the migrations see; no module over 400 lines and no function over 60, except
those named below with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

from truckflow.store.migrate import table_modules

SOURCE = Path(__file__).resolve().parents[2] / "src" / "truckflow"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Functions allowed over the limit, "path:function" relative to src/truckflow, with the reason.
LONG_FUNCTIONS: dict[str, str] = {
    "cli/demo.py:demo": "a Typer command: the lines are its option declarations and --help text",
    "cli/ingest.py:ingest": "a Typer command: the lines are its option declarations and --help text",
}
# A released migration is frozen history: its upgrade is one DDL listing, never edited again.
FROZEN = "store/migrations/versions/"
LONG_MODULES: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(SOURCE).as_posix()


def test_no_module_over_the_limit() -> None:
    long = {
        _name(p): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert set(long) <= set(LONG_MODULES), long


def test_no_function_over_the_limit() -> None:
    long: dict[str, int] = {}
    for path in _sources():
        if _name(path).startswith(FROZEN):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{_name(path)}:{node.name}"] = lines
    unexplained = {name: n for name, n in long.items() if name not in LONG_FUNCTIONS}
    assert not unexplained, unexplained
    # An exception that is no longer needed goes from the list.
    assert set(LONG_FUNCTIONS) <= set(long), set(LONG_FUNCTIONS) - set(long)


def _declares_table(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "Table"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "sa"
        for node in ast.walk(tree)
    )


def test_tables_are_declared_in_tables_modules_only() -> None:
    declaring = {
        _name(p) for p in _sources() if _declares_table(ast.parse(p.read_text(encoding="utf-8")))
    }
    elsewhere = {name for name in declaring if not name.endswith("/tables.py")}
    assert not elsewhere, elsewhere
    nested = {name for name in declaring if name.count("/") != 1}
    assert not nested, f"tables.py belongs at a package's top: {nested}"


def test_migrations_see_every_tables_module() -> None:
    on_disk = {
        "truckflow." + _name(p).removesuffix(".py").replace("/", ".")
        for p in SOURCE.glob("*/tables.py")
    }
    assert set(table_modules()) == on_disk
    assert "truckflow.store.tables" in on_disk
