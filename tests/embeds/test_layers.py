"""The layers point one way: the reusable app imports nothing of the host project."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]
HOST_PACKAGES = {"accounts", "hostsite"}


def imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports, at module or function level."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "embeds").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_embeds_imports_nothing_from_the_host(path):
    assert not imported_packages(path) & HOST_PACKAGES


def test_embeds_migrations_depend_on_no_host_app(db):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app_label, _name), migration in loader.disk_migrations.items():
        if app_label == "embeds":
            assert not {dep[0] for dep in migration.dependencies} & HOST_PACKAGES, migration
