"""The theory the code cites ships with the project: every "theory.md §n" names a section of docs/theory.md."""

import re
from pathlib import Path

from tests.apptest_helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "docs" / "theory.md"


def test_every_cited_section_exists():
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", THEORY.read_text(encoding="utf-8"), flags=re.M)}
    cited = set()
    for path in [*ROOT.glob("*.py"), *ROOT.glob("[a-z]*/**/*.py")]:
        if ".ci" in path.parts or "venv" in str(path):
            continue
        for first, last in re.findall(r"theory(?:\.md)? §(\d+)(?:[–-]§?(\d+))?", path.read_text(encoding="utf-8")):
            cited.update(range(int(first), int(last or first) + 1))
    assert cited and cited <= sections, sorted(cited - sections)


def test_home_page_shows_the_theory_and_the_readme_links_it():
    at = open_page("home")
    assert any("## 9. Central flows" in m.value for m in at.markdown)
    assert "docs/theory.md" in (ROOT / "README.md").read_text(encoding="utf-8")
