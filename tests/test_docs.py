"""The documentation site (issue 16): every constraint tag of the code is in the formulation page
and back, the generated schema page lists every field of the site file, every page is in the nav,
and the README keeps the quick start CI runs."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

import dispatch
from dispatch.site import site_json_schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = Path(dispatch.__file__).parent
# A constraint rule's docstring opens with its tag: """M2: hashrate ...""" or """P2 (demand ...)"""
TAG_IN_DOCSTRING = re.compile(r'"""([A-Z]{1,2}\d+)\b')


def _code_tags() -> set[str]:
    return {
        tag
        for path in PACKAGE.rglob("*.py")
        for tag in TAG_IN_DOCSTRING.findall(path.read_text(encoding="utf-8"))
    }


def test_every_constraint_tag_in_the_code_is_stated_in_the_formulation():
    tags = _code_tags()
    assert {"B1", "H2", "A1", "SZ1", "SZ7"} <= tags  # the scan finds rules at all
    page = (DOCS / "formulation.md").read_text(encoding="utf-8")
    missing = sorted(tag for tag in tags if not re.search(rf"\*\*{tag}\b", page))
    assert missing == [], f"tags in the code, not in docs/formulation.md: {missing}"


def test_every_tag_the_formulation_states_exists_in_the_code():
    page = (DOCS / "formulation.md").read_text(encoding="utf-8")
    stated = set(re.findall(r"\*\*([A-Z]{1,2}\d+)\b", page))
    assert len(stated) >= 20
    code = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    missing = sorted(tag for tag in stated if not re.search(rf"\b{tag}\b", code))
    assert missing == [], f"tags in docs/formulation.md that no code carries: {missing}"


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema_hook():
    return _hook("site_schema")


def test_the_schema_page_lists_every_field_of_every_section():
    schema = site_json_schema()
    page = _schema_hook().schema_markdown(schema)
    sections = {"Site": schema, **schema["$defs"]}
    for name, model in sections.items():
        assert f"\n## {name}\n" in f"\n{page}", name
        body = page.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for field in model["properties"]:
            assert f"| `{field}` |" in body, (name, field)
    assert "| `import_limit_mw` | number ≥ 0, ≤ 10000 | **required** |" in page  # its bound
    assert "| `interval_minutes` | one of `5`, `15`, `30`, `60` | `15` |" in page


def test_the_schema_page_carries_the_marker_the_hook_fills():
    hook = _schema_hook()
    assert hook.MARKER in (DOCS / hook.PAGE).read_text(encoding="utf-8")


def _nav_pages(entries) -> set[str]:
    pages: set[str] = set()
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages |= _nav_pages(value) if isinstance(value, list) else {value}
    return pages


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    files = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert nav == files


def test_the_readme_keeps_the_two_command_quick_start_and_links_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && dispatch run sites/west_texas_hybrid.yaml" in readme
    assert "pip install '.[test]' && python -m pytest" in readme
    assert len(readme.splitlines()) <= 80
    links = re.findall(r"\]\(((?:docs/)[^)#]+)", readme)
    assert links and all((ROOT / link).exists() for link in links), links


def test_included_github_lists_get_the_blank_line_and_indent_python_markdown_needs():
    github = "Time conventions\n* one\n  continued\n* two\n  * nested\n\n```\n* code\n```\n"
    assert _hook("include").github_lists(github) == (
        "Time conventions\n\n* one\n  continued\n* two\n    * nested\n\n```\n* code\n```\n"
    )


def test_every_include_marker_names_a_file_that_exists():
    include = _hook("include")
    markers = [
        m.group(1)
        for page in DOCS.rglob("*.md")
        for m in include.INCLUDE.finditer(page.read_text(encoding="utf-8"))
    ]
    assert sorted(markers) == ["CHANGELOG.md", "dispatch/data/PROVENANCE.md"]
    assert all((ROOT / m).is_file() for m in markers)
