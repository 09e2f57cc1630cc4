"""The apps' layers, clinic <- conditions <- referrals <- scheduling, checked by import-linter
with the contract in pyproject.toml (the same check `make lint` runs), and proof that the
contract catches an upward import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """import-linter run in ``cwd`` (its packages importable from there), as `make lint` runs it."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def project_contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_contract_names_every_app_in_its_layer_order():
    config = project_contract()
    (contract,) = config["contracts"]
    assert contract["type"] == "layers"
    assert contract["layers"] == ["scheduling", "referrals", "conditions", "clinic"]  # top first
    assert sorted(config["root_packages"]) == sorted(contract["layers"])
    assert not contract.get("ignore_imports")  # no upward import is waved through


def test_every_app_imports_only_from_apps_to_its_left():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_the_contract_reports_an_upward_import(tmp_path):
    # A miniature of the project (its four apps, the same contract) where clinic's wiring
    # imports a scheduling view, as clinic.urls might by mistake.
    for app in project_contract()["root_packages"]:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "scheduling" / "views.py").write_text("")
    (tmp_path / "referrals" / "services.py").write_text("from clinic import wiring\n")  # downward: allowed
    (tmp_path / "clinic" / "wiring.py").write_text("from scheduling import views\n")
    (tmp_path / "pyproject.toml").write_text(contract_as_toml(project_contract()))

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Contracts: 0 kept, 1 broken." in result.stdout
    assert "clinic.wiring -> scheduling.views" in result.stdout
    assert "referrals.services" not in result.stdout


def contract_as_toml(config: dict) -> str:
    """The project's import-linter tables, written back as TOML (strings and string lists)."""

    def value(v) -> str:
        return "[" + ", ".join(f'"{item}"' for item in v) + "]" if isinstance(v, list) else f'"{v}"'

    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {value(v)}" for key, v in config.items() if key != "contracts"]
    for contract in config["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]", *(f"{key} = {value(v)}" for key, v in contract.items())]
    return "\n".join(lines) + "\n"
