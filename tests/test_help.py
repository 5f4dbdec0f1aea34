"""Every command and subcommand has help text, including ones added later (the group is walked)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from takeaways.cli import cli


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


COMMANDS = [((), cli), *walk(cli)]


def test_the_walk_finds_the_known_commands() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "summarize", "extract", "templates", "templates list", "templates export"} <= names


@pytest.mark.parametrize("path,command", COMMANDS, ids=lambda p: " ".join(p) if isinstance(p, tuple) else "")
def test_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"`takeaways {' '.join(path)}` has no docstring/help"
    assert (command.get_short_help_str() or "").strip()
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {' '.join(path)}".rstrip() + " ") or result.output.startswith("Usage: ")
    assert command.help.strip().split("\n")[0] in " ".join(result.output.split())
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"`takeaways {' '.join(path)}` option {param.opts} has no help"
