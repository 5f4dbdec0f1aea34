"""The wheel ships the templates, and an installed (non-editable) copy finds them from any directory.

Instead of a fresh venv (slow: every dependency from PyPI), the built wheel is installed with
`pip install --no-deps --target DIR` and run with PYTHONPATH=DIR from another directory. That is a
real, non-editable install of our package; the dependencies come from the running environment.
`builtin_dir()` must then resolve to DIR/takeaways/templates, not to the source checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
BLOCKS = ["html.j2", "json.j2", "jsonld.j2", "md.j2", "page.html.j2", "text.j2"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=120)
    (whl,) = out.glob("takeaways-*.whl")
    return whl


def test_wheel_contains_the_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in BLOCKS:
        assert f"takeaways/templates/blocks/{name}" in names
    assert "takeaways/cli.py" in names and "takeaways/__main__.py" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_installed_wheel_renders_html_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=120)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=elsewhere, env=env,
                              timeout=60)

    where = run("-c", "import takeaways; from takeaways.rendering import builtin_dir; print(takeaways.__file__); print(builtin_dir())")
    module_file, templates = where.stdout.split()
    assert Path(module_file).is_relative_to(target) and Path(templates) == target / "takeaways" / "templates"

    result = run("-m", "takeaways", "summarize", str(FIXTURES / "article.html"), "-f", "html", "-e", "extractive")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('<section class="takeaways-digest" lang="en">')
    assert "<h2>Key Takeaways</h2>" in result.stdout

    listed = run("-m", "takeaways", "templates", "list")
    assert all(Path(line.split("\t")[1]).is_relative_to(target) for line in listed.stdout.splitlines())
