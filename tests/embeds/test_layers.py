"""The layers point one way (docs/architecture.md).

The arrows themselves are import-linter contracts in ``pyproject.toml``
(``[tool.importlinter]``), run by ``make lint``; this test runs them too, so the
suite guards them on its own. import-linter sees imports at module and function
level alike. What it cannot see, Django migration dependencies, is checked here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]
HOST_PACKAGES = {"accounts", "hostsite"}


def test_import_contracts_are_kept():
    # In a subprocess: lint-imports configures logging handlers of its own, which
    # would outlive this test in the suite's process.
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [lint_imports, "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.django_db
def test_embeds_migrations_depend_on_no_host_app():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app_label, _name), migration in loader.disk_migrations.items():
        if app_label == "embeds":
            assert not {dep[0] for dep in migration.dependencies} & HOST_PACKAGES, migration
