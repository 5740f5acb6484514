"""Completion certificate (PDF, fpdf2 core fonts): the trainee's name, the deck with each
exercise's status and best score, and the training disclaimer on every page.

A trainee who has passed every exercise gets a "Certificate of completion"; before
that the same document is a "Training record" saying how many are passed.
"""
from __future__ import annotations

from datetime import datetime

from ..report import DisclaimerPDF, latin1
from .aggregates import deck_progress
from .models import Exercise
from .progress import AttemptRecord


def completed(deck: list[Exercise], attempts: list[AttemptRecord]) -> bool:
    passed = {a.exercise_id for a in attempts if a.passed}
    return all(ex.id in passed for ex in deck)


def certificate_pdf(name: str, deck: list[Exercise], attempts: list[AttemptRecord],
                    issued: datetime | None = None) -> bytes:
    issued = issued or datetime.now()
    progress = deck_progress(deck, attempts)
    n_passed = int((progress["status"] == "passed").sum())
    done = n_passed == len(deck)
    pdf = DisclaimerPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(latin1("Certificate of completion" if done else "Training record"))
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.ln(6)
    pdf.cell(0, 12, latin1("Certificate of completion" if done else "Training record"), new_x="LMARGIN",
             new_y="NEXT", align="C")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 8, latin1("Intrathecal pump programming trainer"), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, latin1(name), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("Helvetica", "", 11)
    text = (f"has passed all {len(deck)} exercises of the training deck." if done else
            f"has passed {n_passed} of the {len(deck)} exercises of the training deck (in progress).")
    pdf.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.cell(0, 6, latin1(f"Issued {issued:%Y-%m-%d}. Display name entered by the trainee; no identity check."),
             new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(6)
    widths = (78, 26, 24, 22, 20, 20)
    pdf.set_font("Helvetica", "B", 9)
    for w, h in zip(widths, ("exercise", "level", "status", "best score", "attempts", "time (s)")):
        pdf.cell(w, 6, h, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for row in progress.itertuples(index=False):
        best = "" if row.best_score_percent is None or row.best_score_percent != row.best_score_percent \
            else f"{row.best_score_percent:.0f} %"
        secs = "" if row.best_time_s is None or row.best_time_s != row.best_time_s else f"{row.best_time_s:.0f}"
        cells = (row.title[:48], row.level, row.status, best, str(row.attempts), secs)
        for w, c in zip(widths, cells):
            pdf.cell(w, 6, latin1(c))
        pdf.ln()
    return bytes(pdf.output())
