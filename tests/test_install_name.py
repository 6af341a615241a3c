"""A name that is ours: the project installs as ``flexload-dispatch`` (``dispatch`` on PyPI is an
unrelated project), every install line in the README, the docs and the code's messages names
it (or a local checkout), and the command answers ``--version`` and ``-h``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dispatch
from dispatch.cli import app
from dispatch.distribution import DISTRIBUTION, install_hint, package_version

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(dispatch.__file__).parent
PIP_INSTALL = re.compile(r"pip install ([^\n`&|#]+)")
# a local checkout ('.', '.[dask]') or the distribution, optionally with its source (PEP 508)
OURS = re.compile(
    rf"^(\.|\./|{re.escape(DISTRIBUTION)})(\[[a-z,]+\])?( @ (file|https|git\+https)://\S+)?$"
)
runner = CliRunner()


FENCED = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")


def install_lines() -> list[tuple[str, str]]:
    """Every ``pip install`` a page shows as code (fenced blocks and inline code)."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        code = [*FENCED.findall(text), *INLINE.findall(FENCED.sub("", text))]
        for snippet in code:
            for match in PIP_INSTALL.finditer(snippet):
                found.append((str(page.relative_to(ROOT)), match.group(1).strip()))
    return found


def test_the_distribution_is_ours_and_the_import_and_command_are_dispatch():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "flexload-dispatch"
    assert project["scripts"] == {"dispatch": "dispatch.cli:app"}
    assert {"dask", "report", "sizing", "test"} <= set(project["optional-dependencies"])
    assert package_version() == version(DISTRIBUTION)


def test_every_install_line_in_the_readme_and_docs_names_the_project():
    lines = install_lines()
    assert any(page == "docs/batch.md" for page, _ in lines)  # the cluster line is found
    for page, arguments in lines:
        requirements = [a for a in shlex.split(arguments) if not a.startswith("-")]
        assert requirements, (page, arguments)
        for requirement in requirements:
            assert OURS.match(requirement), f"{page}: pip install {arguments}"


def test_the_cluster_install_line_installs_the_dask_extra_of_this_project():
    cluster = [a for page, a in install_lines() if page == "docs/batch.md" and "[dask]" in a]
    assert cluster and all(a.strip("'\"").startswith(f"{DISTRIBUTION}[dask] @ ") for a in cluster)


def test_messages_name_the_project_when_they_say_what_to_install():
    assert install_hint("dask") == "pip install 'flexload-dispatch[dask]'"
    literal = re.compile(r"""["']pip install""")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if literal.search(path.read_text(encoding="utf-8")) and path.name != "distribution.py"
    ]
    assert offenders == []  # every hint goes through install_hint


@pytest.mark.parametrize("flag", ["--version"])
def test_version_and_short_help(flag: str):
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0
    assert result.output.strip() == f"dispatch {package_version()} ({DISTRIBUTION})"
    short = runner.invoke(app, ["-h"])
    assert short.exit_code == 0 and "Commands" in short.output and "--version" in short.output
    assert runner.invoke(app, ["run", "-h"]).exit_code == 0
    module = subprocess.run(
        [sys.executable, "-m", "dispatch", "--version"], capture_output=True, text=True, check=True
    )
    assert module.stdout.strip() == result.output.strip()
