"""The install stays light: running needs only the package's own dependencies, the
notebooks add JupyterLab, and the test tools (and moto's whole server extra, which brings
cfn-lint, sympy and networkx) stay out of both. ``make demo`` and ``make check`` install the
package alone, ``make lab`` the notebooks' extra, ``make test`` everything."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TEST_TOOLS = {"pytest", "playwright", "awscli", "cfn-lint", "mypy", "ruff", "nbmake", "hypothesis"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_running_needs_no_test_tool_and_not_motos_server_extra() -> None:
    core = PROJECT["dependencies"]
    assert not _names(core) & TEST_TOOLS
    moto = next(r for r in core if r.startswith("moto"))
    assert "server" not in moto and "all" not in moto
    assert {"jupyterlab", "ipywidgets"} & _names(core) == set()
    assert {"jupyterlab", "ipywidgets", "ipykernel"} <= _names(
        PROJECT["optional-dependencies"]["lab"]
    )
    dev = PROJECT["optional-dependencies"]["dev"]
    assert TEST_TOOLS - {"cfn-lint"} <= _names(dev) and "fanoutsim[lab,lint]" in dev


def test_each_make_target_installs_only_what_it_runs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(RUN\):.*\n\t.*pip install --quiet -e \.$", makefile, re.M)
    assert re.search(r"^\$\(LAB\):.*\n\t.*pip install --quiet -e '\.\[lab\]'$", makefile, re.M)
    assert re.search(r"^\$\(DEV\):.*\n\t.*pip install --quiet -e '\.\[dev\]'$", makefile, re.M)
    assert re.search(r"^demo: \$\(RUN\)$", makefile, re.M)
    assert re.search(r"^check: \$\(RUN\)$", makefile, re.M)
    assert re.search(r"^lab: \$\(LAB\)$", makefile, re.M)
    # the tests also run the Node.js example handler: its packages, from its lockfile
    assert re.search(r"^test: \$\(DEV\) \$\(NODE_EXAMPLE\)$", makefile, re.M)
    node = r"^\$\(NODE_EXAMPLE\):.*\n(\t@.*\n)*\tnpm ci --prefix examples/node-fanout"
    assert re.search(node, makefile, re.M)
    assert "-e .[lab]" in (ROOT / "environment.yml").read_text()
