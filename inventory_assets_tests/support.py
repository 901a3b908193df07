"""Constants and doc readers the test helpers share; imports no other test module.

conftest, cli_runner and browser all import from here, so none of them has to
import another (which made an import cycle: conftest -> browser -> cli_runner ->
conftest). Nothing here builds anything when imported.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_API_KEY = "test-key-Zq7!x/9+s3cr3t"
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# The page of the demo, the UI, the CLI and the sensors: the commands the CLI and UI tests run.
DAILY_USE = "docs/daily-use.md"


def doc_pages() -> list[Path]:
    """The front page and every page under docs/, in a stable order."""
    return [README, *sorted(DOCS.glob("*.md"))]


def _page_path(page: str) -> Path:
    """`README.md` or a page under docs/ (`docs/production.md`), relative to the root."""
    path = ROOT / page
    assert path in doc_pages(), f"{page} is not README.md or a page under docs/"
    return path


def doc_export(page: str, name: str) -> str:
    """The value the page's `export NAME=...` line gives, as the shell would read it."""
    for line in _page_path(page).read_text().splitlines():
        if line.startswith(f"export {name}="):
            (assignment,) = shlex.split(line.removeprefix("export "), comments=True)
            return assignment.split("=", 1)[1]
    raise AssertionError(f"{page} exports no {name}")


def doc_commands(page: str, prefix: str) -> set[tuple[str, ...]]:
    """The page's commands that start with `prefix`, split as the shell would.

    Continuation lines are joined and comments dropped, so a test can check that
    the command it runs is, argument for argument, the one users are shown.
    """
    text = _page_path(page).read_text().replace("\\\n", " ")
    return {
        tuple(shlex.split(line, comments=True))
        for line in text.splitlines()
        if line.strip().startswith(prefix)
    }


def imported_modules(path: Path) -> set[str]:
    """Every module the Python file `path` imports, at any depth of its code (an import
    inside a function counts too); `from a import b` names both `a` and `a.b`, since `b`
    may be a module."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    return imported
