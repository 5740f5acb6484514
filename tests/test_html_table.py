"""ui.html_table: plain HTML tables with every cell escaped, row headers, marked rows in words."""
from ui.html_table import table_html


def test_cells_are_escaped_and_rows_named_by_their_first_cell():
    out = table_html(["setting", "value"], [["<b>rate</b>", "0.4 mL/day"], ["a & b", None]], name="Review 'x'")
    assert "<b>rate</b>" not in out and "&lt;b&gt;rate&lt;/b&gt;" in out
    assert "<th scope='row'>a &amp; b</th><td></td>" in out  # None: an empty cell
    assert "<thead><tr><th scope='col'>setting</th><th scope='col'>value</th></tr></thead>" in out
    assert "aria-label='Review &#x27;x&#x27;'" in out and "tabindex='0'" in out


def test_marked_rows_are_highlighted_and_say_so_in_words():
    out = table_html(["setting", "current", "pending"], [["rate", "0.4", "0.5"], ["drug", "baclofen", "baclofen"]],
                     name="Review", marked=[0], note="a note")
    first, second = out.split("<tr")[2:4]
    assert first.startswith(" class='pt-marked'><th scope='row'>rate <span class='pt-mark'>(changed)</span></th>")
    assert "pt-marked" not in second and "(changed)" not in second
    assert out.endswith("<p class='pt-table-note'>a note</p>")
