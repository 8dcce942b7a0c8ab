"""The checks CI runs on the code itself: lint, format and the layer contracts of DESIGN.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    res = _run(_tool("ruff"), "check", "src", "tests", "bench")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_format_is_clean():
    res = _run(_tool("ruff"), "format", "--check", "src", "tests", "bench")
    assert res.returncode == 0, res.stdout + res.stderr


def test_layer_contracts_hold():
    res = _run(_tool("lint-imports"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout, res.stdout


def _name(requirement: str) -> str:
    """The normalised project name of a requirement string (``"Jinja2>=3.1"`` → ``jinja2``)."""
    import re

    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_constraints_pin_every_declared_dependency():
    """CI installs from ``constraints.txt``: every dependency of the package and of its ``dev`` and
    ``spark`` extras must be pinned there (exactly one ``==`` version), or CI would not be reproducible."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in ("dev", "spark"):
        declared += project["optional-dependencies"][extra]
    lines = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = [ln for ln in lines if ln and not ln.startswith("#")]
    assert all("==" in p for p in pins), [p for p in pins if "==" not in p]
    pinned = {_name(p) for p in pins}
    missing = sorted({_name(d) for d in declared} - pinned)
    assert not missing, f"not pinned in constraints.txt (regenerate it, see its header): {missing}"
    # the README's test command and CI install with the constraints
    assert "pip install -c constraints.txt -e '.[dev,spark]'" in (ROOT / "README.md").read_text()
