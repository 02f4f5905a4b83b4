"""Notebook HTML: dollars are entities (JupyterLab would typeset them as math) and numbers
do not wrap."""

from __future__ import annotations

from fanoutsim.model.explore import sources_html, table_html
from fanoutsim.notebook.views import table


def test_dollars_never_reach_the_notebook_as_math() -> None:
    """JupyterLab typesets $...$ in HTML output: every dollar goes out as an entity."""
    html_out = str(table([{"price": "$1.00 per million, then $0.80"}]))
    assert "$" not in html_out and "&#36;1.00 per million, then &#36;0.80" in html_out
    assert "$" not in sources_html("aws")
    assert '<td style="white-space:nowrap">1,234.50</td>' in table_html([{"usd": 1234.5}])
