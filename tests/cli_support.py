"""Running the CLI in-process for tests: one way to invoke it and to read its one-line errors."""

from __future__ import annotations

from collections.abc import Callable

from typer.testing import CliRunner, Result

from casework.cli import app

Run = Callable[..., Result]
#: Wide, colourless output so tests can match whole lines.
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def invoke(url: str, *args: str, expect: int | None = 0, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, ["--database-url", url, *args], env=ENV, input=input)
    if expect is not None:
        assert result.exit_code == expect, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def one_error_line(result: Result) -> str:
    """User errors are one line on stderr starting with 'error: ', never a traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    return lines[0]
