"""The docs hang together: README.md is a short front page that links every page under
docs/, and every relative link on any page points at a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inventory_assets_tests.support import DOCS, README, ROOT, doc_pages

README_MAX_LINES = 160
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _links(page: Path) -> list[str]:
    """The link targets of a page, outside code blocks."""
    return LINK.findall(FENCE.sub("", page.read_text()))


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a markdown page."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", FENCE.sub("", page.read_text()), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target)


def _resolve(page: Path, target: str) -> tuple[Path, str]:
    path, _, anchor = target.partition("#")
    return ((page.parent / path).resolve() if path else page), anchor


def test_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_readme_links_every_page_under_docs() -> None:
    linked = {_resolve(README, target)[0] for target in _links(README) if _relative(target)}
    pages = {page.resolve() for page in DOCS.glob("*.md")}
    assert pages, "docs/ has pages"
    missing = sorted(str(page.relative_to(ROOT)) for page in pages - linked)
    assert missing == [], f"README.md links none of {missing}"


def test_readme_keeps_the_two_commands() -> None:
    text = README.read_text()
    for command in ("make demo   # ", "make test   # "):
        assert f"\n{command}" in text


@pytest.mark.parametrize("page", doc_pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_points_at_an_existing_file(page: Path) -> None:
    broken = []
    for target in _links(page):
        if not _relative(target):
            continue
        path, anchor = _resolve(page, target)
        if not path.exists():
            broken.append(f"{target} (no file {path})")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target} (no heading #{anchor} in {path.name})")
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"
