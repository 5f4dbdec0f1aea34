"""Start-up: `takeaways --version` and `--help` import none of the library's heavy parts."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pydantic", "trafilatura", "openai", "jinja2", "httpx2", "lxml", "numpy", "rich", "asyncio", "takeaways.api",
         "takeaways.models", "takeaways.extraction", "takeaways.inputs", "takeaways.batch.runner")

PROBE = """
import sys
from takeaways.cli import cli
try:
    cli({args!r}, prog_name="takeaways")
except SystemExit:
    pass
print("LOADED", " ".join(sorted(m for m in sys.modules if m in {heavy!r})))
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["batch", "--help"], ["summarize", "--help"]])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=set(HEAVY))], capture_output=True,
                         text=True, check=True).stdout
    assert out.splitlines()[-1] == "LOADED ", out


def test_the_public_functions_do_not_shadow_modules() -> None:
    out = subprocess.run([sys.executable, "-c", (
        "import takeaways, takeaways.extraction, takeaways.rendering\n"
        "print(callable(takeaways.extract), callable(takeaways.render), callable(takeaways.summarize),\n"
        "      type(takeaways.extraction).__name__, type(takeaways.rendering).__name__)")],
        capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True", "module", "module"]
