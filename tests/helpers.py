"""Builders for cases in tests: small dicts in the spec's JSON shape."""
from __future__ import annotations

import copy
from html.parser import HTMLParser

from pumpmodel import Case, evaluate


def drug(name="morphine", conc=10.0, unit="mg/mL"):
    return {"drug": name, "concentration": conc, "unit": unit}


def simple(rate, *drugs, ptm=None):
    p = {"drugs": list(drugs) or [drug()], "mode": "simple_continuous", "rate_ml_per_day": rate}
    if ptm:
        p["ptm"] = ptm
    return p


def case(proposed, current=None, profile="programmable-20", reservoir=18.0, now="2026-11-21T09:00:00",
         appointment=None, **extra):
    d = {"pump": {"profile": profile}, "now": now, "reservoir_ml": reservoir, "current": current,
         "proposed": proposed, "next_appointment": appointment}
    d.update(extra)
    return copy.deepcopy(d)


def run(d):
    return evaluate(Case.model_validate(d))


def codes(d):
    return [w.code for w in run(d).warnings]


class _Tables(HTMLParser):
    """Rows of every <table> as lists of cell texts (header row first), and the row-header flags."""

    def __init__(self):
        super().__init__()
        self.tables, self.row_headers, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self._cell = []
            if tag == "th" and ("scope", "row") in attrs:
                self.row_headers.append(len(self.tables[-1][-1]))

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_blocks(at) -> list[str]:
    """The bodies of the page's st.html elements (figure cards, plain tables)."""
    return [h.proto.body for h in at.get("html")]


def html_tables(at) -> tuple[list[list[dict[str, str]]], list[int]]:
    """The page's HTML tables (st.html) as rows of {header: cell}, and where the row headers sit."""
    parser = _Tables()
    for body in html_blocks(at):
        parser.feed(body)
    return [[dict(zip(t[0], row)) for row in t[1:]] for t in parser.tables], parser.row_headers
