"""The README and docs/: a learner's guide in 450 lines, every link sound."""
import re
from pathlib import Path

import pytest

from helpers import ROOT

README_LINES = 450
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target): the targets that are not web addresses are checked.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """Return the #anchors GitHub makes of PAGE's headings."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def test_the_readme_is_a_guide_a_learner_reads_in_ten_minutes():
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_LINES


def test_anchors_are_made_as_github_makes_them():
    assert {"task-0--readmemd-and-dumprdb", "quick-start"} <= anchors(
        ROOT / "README.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_of_a_page_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto: ...
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md"
                                   and anchor not in anchors(linked)):
            broken.append(target)
    assert broken == []
