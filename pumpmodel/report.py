"""Session report: a PDF (fpdf2, core fonts) of one sandbox programming session.

``session_report(...) -> bytes`` is pure: patient and pump, drug(s), the
program before vs after (what was sent, or what is pending), daily doses,
dates, both charts (24 h schedule and reservoir projection, drawn by
``pumpmodel.figures.sandbox`` and rendered to PNG by kaleido with Debian's
chromium), every guardrail finding, the override log with reasons and both
clocks (the pump's and the wall clock, UTC), and the case as JSON. Every page
carries the training disclaimer. Text is kept latin-1 safe (core PDF fonts):
"mcg", "x", plain dashes; table columns are wide enough for their longest
word, so no word is broken.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

from fpdf import FPDF

from .evaluation import Evaluation
from .programs import Case
from .sandbox import comparison_rows, review_rows
from .sharelink import case_to_dict

DISCLAIMER = "Synthetic data, training only, not for clinical use."

_REPLACE = {"\u00b5": "mc", "\u03bc": "mc", "\u00d7": "x", "\u2013": "-", "\u2014": "-", "\u2212": "-",
            "\u2264": "<=", "\u2265": ">=", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
            "\u2026": "...", "\u2192": "->", "\u00a0": " ", "\u2009": " ", "\u202f": " "}


def latin1(text: str) -> str:
    """Text the core PDF fonts can draw: common symbols spelt out, anything else '?'."""
    for k, v in _REPLACE.items():
        text = text.replace(k, v)
    return text.encode("latin-1", errors="replace").decode("latin-1")


class DisclaimerPDF(FPDF):
    """An A4 document with the training disclaimer in the header and footer of every page."""

    def header(self) -> None:
        self.set_font("Helvetica", "B", 9)
        self.set_text_color(180, 60, 0)
        self.cell(0, 5, latin1(DISCLAIMER), new_x="LMARGIN", new_y="NEXT", align="C")
        self.set_text_color(0, 0, 0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, latin1(f"{DISCLAIMER}  Page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)


class _Report(DisclaimerPDF):
    title_text = "Intrathecal pump programming session (training)"


def _h(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def _p(pdf: FPDF, text: str, size: int = 9, style: str = "") -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")


#: A table cell longer than this is shortened in the table (a row taller than a page cannot be
#: drawn: fpdf2 "row too high") and printed in full below the table.
MAX_CELL_CHARS = 600


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: tuple[int, ...], bold_rows=(),
           size: int = 8) -> None:
    pdf.set_font("Helvetica", "", size)
    long_cells = []
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.2, first_row_as_headings=True) as t:
        r = t.row()
        for h in header:
            r.cell(latin1(h))
        for i, row in enumerate(rows):
            r = t.row()
            for j, cell in enumerate(row):
                text = str(cell)
                if len(text) > MAX_CELL_CHARS:
                    long_cells.append((i + 1, header[j], text))
                    text = text[:MAX_CELL_CHARS] + f" ... ({header[j]} shortened: {len(text):,} characters; " \
                                                   "in full below the table)"
                r.cell(latin1(text), style=_bold() if i in bold_rows else None)
    for row_no, column, text in long_cells:
        _p(pdf, f"Row {row_no}, {column} in full: {text}", size)


def _bold():
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD")


def chart_pngs(case: Case, ev: Evaluation, current_ev: Evaluation | None) -> list[tuple[str, bytes]] | str:
    """Both sandbox charts as PNG (title, bytes), or why they could not be drawn."""
    from .figures.sandbox import reservoir_figure, schedule_figure

    try:
        figs = [("24 h schedule: current vs new", schedule_figure(case.current, case.proposed)),
                ("Reservoir projection: current vs new", reservoir_figure(case, ev, current_ev))]
        return [(t, f.to_image(format="png", width=1000, height=380, scale=1.5)) for t, f in figs]
    except Exception as exc:  # noqa: BLE001 - no chromium/kaleido: the report still has every number
        return f"charts could not be drawn ({type(exc).__name__}: {str(exc)[:200]})"


def session_report(case: Case, ev: Evaluation, current_ev: Evaluation | None, overrides: list[dict],
                   pump_id: str | None = None, sent: bool = False,
                   generated_at: datetime | None = None, patient_label: str | None = None,
                   sent_at: datetime | None = None, charts: bool = True) -> bytes:
    """The PDF bytes of a programming session report. ``case``: what was sent (``sent``; its
    ``current`` is the program before) or what is pending. ``overrides``: rows with ``pump clock``,
    ``wall clock (UTC)``, ``pump``, ``code``, ``drug``, ``reason`` (older rows: ``at``)."""
    pdf = _Report(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(latin1(_Report.title_text))
    pdf.set_creator("pumpmodel (training simulator)")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, latin1(_Report.title_text), new_x="LMARGIN", new_y="NEXT")
    stamp = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M")
    spec = case.pump.spec
    status = "proposal, not sent"
    if sent:
        status = "sent to the simulated pump" + (f" at {sent_at:%Y-%m-%d %H:%M} UTC (wall clock)" if sent_at else "")
    _p(pdf, f"Patient: {patient_label or 'none (sandbox case)'}.", 10, "B")
    _p(pdf, f"Pump: {pump_id or 'sandbox (no pump selected)'}; profile {spec.name} ({spec.label}), "
            f"reservoir {spec.reservoir_ml:g} mL. Session on the pump clock: {case.now:%Y-%m-%d %H:%M}. "
            f"Report generated {stamp} UTC (wall clock). Status: {status}.")
    drugs = " + ".join(f"{e.drug} {e.concentration:g} {e.unit}" for e in case.proposed.drugs)
    _p(pdf, f"Drug(s): {drugs}. Indication: {(case.indication or 'not given').replace('_', ' ')}.")

    _h(pdf, "Before vs after: current vs new program")
    rows = review_rows(case, ev, current_ev)
    changed = {i for i, r in enumerate(rows) if r["changed"]}
    _table(pdf, ["setting", "current", "new (pending)"], [[r["setting"], r["current"], r["pending"]] for r in rows],
           (45, 70, 70), bold_rows=changed)
    _p(pdf, "Rows in bold changed.", 7)

    _h(pdf, "Daily doses and dates")
    comp = comparison_rows(case, ev, current_ev)
    _table(pdf, ["figure", "current", "new", "change"],
           [[r["figure"], r["current"], r["proposed"], r["change"]] for r in comp], (60, 45, 45, 35))
    if ev.bridge_bolus is not None:
        b = ev.bridge_bolus
        hrs = "never (nothing delivered)" if b.hours_to_clear_without is None else f"{b.hours_to_clear_without:.4g} h"
        _p(pdf, f"Bridge bolus: {b.volume_ml:g} mL dead space (catheter + tubing); without it the new program "
                f"needs {hrs} to clear the old solution.")

    if charts:
        _h(pdf, "Charts")
        pngs = chart_pngs(case, ev, current_ev)
        if isinstance(pngs, str):
            _p(pdf, pngs[:1].upper() + pngs[1:] + ": every figure is in the tables.", 8)
        else:
            for title, png in pngs:
                _p(pdf, title, 8, "B")
                pdf.image(io.BytesIO(png), w=pdf.epw)

    _h(pdf, f"Guardrail findings ({len(ev.warnings)})")
    _p(pdf, f"Evaluated for the pump clock {case.now:%Y-%m-%d %H:%M}; report generated {stamp} UTC (wall clock).", 8)
    if ev.warnings:
        _table(pdf, ["severity", "code", "message", "source"],
               [[f.severity.upper(), f.code + (f" ({f.drug})" if f.drug else ""), f.message, f.source]
                for f in ev.warnings], (16, 62, 67, 45), size=7)
    else:
        _p(pdf, "No findings.")

    _h(pdf, f"Override log ({len(overrides)})")
    if overrides:
        _table(pdf, ["pump clock", "wall clock (UTC)", "pump", "code", "reason"],
               [[o.get("pump clock", o.get("at", "")), o.get("wall clock (UTC)", ""), o.get("pump", ""),
                 o.get("code", "") + (f" ({o['drug']})" if o.get("drug") and not str(o["drug"]).startswith("(")
                                      else ""), o.get("reason", "")] for o in overrides],
               (24, 30, 20, 62, 54), size=7)
    else:
        _p(pdf, "No soft warning was overridden.")

    _h(pdf, "Formulas")
    for x in ev.explanations:
        _p(pdf, f"{x.figure.replace('_', ' ')}: {x.formula}" + (f" [source: {x.source}]" if x.source else ""), 8)

    _h(pdf, "Case as JSON (spec format)")
    pdf.set_font("Courier", "", 7)
    pdf.multi_cell(0, 3.4, latin1(json.dumps(case_to_dict(case), indent=1)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
