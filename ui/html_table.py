"""Small tables drawn as plain HTML (``st.html``, which Streamlit sanitises), every cell escaped.

For tables redrawn on every edit (the sandbox's comparison and review): a markdown table is parsed
by the browser's markdown renderer on each redraw, which took about a third of the browser's work
of a sandbox edit (measured by elimination with Chromium's script time). Styled in ui/look.py
(``.pt-table``): cells wrap, and on a narrow screen the table scrolls sideways inside its own box
(a keyboard-focusable region named after the table), never the page.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import streamlit as st


def _cell(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else html.escape(str(value))


def table_html(columns: Sequence[str], rows: Iterable[Sequence[object]], *, name: str,
               marked: Iterable[int] = (), mark: str = "(changed)", note: str | None = None,
               scroll: bool = False) -> str:
    """The table as HTML: a header row, then one row per item whose first cell names the row (a
    row header). Rows whose index is in ``marked`` are highlighted and say ``mark`` in words
    (never colour alone). ``note``: a small line under the table. ``scroll``: a long table keeps
    a bounded height and scrolls inside its box, its header row staying in view."""
    marked = set(marked)
    head = "".join(f"<th scope='col'>{_cell(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        first, *rest = (_cell(v) for v in row)
        cls, said = (" class='pt-marked'", f" <span class='pt-mark'>{_cell(mark)}</span>") if i in marked else ("", "")
        body.append(f"<tr{cls}><th scope='row'>{first}{said}</th>" + "".join(f"<td>{v}</td>" for v in rest) + "</tr>")
    foot = f"<p class='pt-table-note'>{_cell(note)}</p>" if note else ""
    box = "pt-table pt-scroll" if scroll else "pt-table"
    return (f"<div class='{box}' role='region' aria-label='{_cell(name)}' tabindex='0'><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{foot}")


def html_table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, name: str, **kwargs) -> None:
    """Draw :func:`table_html` in the current container."""
    st.html(table_html(columns, rows, name=name, **kwargs))
