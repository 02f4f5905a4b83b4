"""Notebook 07's lint cell works with and without cfn-lint (an extra, not a dependency)."""

from __future__ import annotations

import sys

import pytest

from fanoutsim.deploy.template import build_template
from fanoutsim.notebook import real_stack


def test_without_cfn_lint_the_cell_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cfnlint", None)
    monkeypatch.setitem(sys.modules, "cfnlint.api", None)
    assert "pip install 'fanoutsim[lint]'" in real_stack.lint_summary(build_template())


def test_with_cfn_lint_the_template_is_clean() -> None:
    assert real_stack.lint_summary(build_template()) == "cfn-lint: 0 errors or warnings"
