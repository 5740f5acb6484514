"""The trainee's progress: the deck with status, CSV export, the completion certificate."""
from __future__ import annotations

import streamlit as st

from pumpmodel.store import Workspace
from pumpmodel.training import aggregates as A
from pumpmodel.training.certificate import certificate_pdf, completed
from pumpmodel.training.models import Exercise
from pumpmodel.training.progress import AttemptRecord

STATUS_ICON = {"passed": ":green[passed]", "attempted": ":orange[attempted]", "not started": "not started"}


def progress_view(deck: list[Exercise], attempts: list[AttemptRecord], ws: Workspace, name: str | None) -> None:
    table = A.deck_progress(deck, attempts)
    n_passed = int((table["status"] == "passed").sum())
    c = st.columns(4)
    c[0].metric("Exercises passed", f"{n_passed} of {len(deck)}")
    c[1].metric("Attempts", len(attempts))
    c[2].metric("Hard stops hit", sum(a.hard_stops for a in attempts))
    c[3].metric("Overrides", sum(len(a.overrides) for a in attempts))
    st.progress(n_passed / len(deck) if deck else 0.0)
    for level in ("beginner", "intermediate", "advanced"):
        rows = [(ex, r) for ex, r in zip(deck, table.itertuples(index=False)) if ex.level == level]
        if not rows:
            continue
        st.markdown(f"##### {level.capitalize()}")
        for ex, r in rows:
            c1, c2, c3 = st.columns([6, 2, 2], vertical_alignment="center")
            c1.page_link("pages/training_player.py", label=ex.title, icon=":material/play_circle:",
                         query_params={"ex": ex.id, "ws": ws.token})
            c2.markdown(STATUS_ICON[r.status])
            c3.markdown("" if r.attempts == 0 else
                        f"best {r.best_score_percent:.0f} % · {r.attempts} attempt{'s' if r.attempts > 1 else ''}")
    st.divider()
    c1, c2 = st.columns(2)
    c1.download_button("Download my results (CSV)", A.attempts_table(attempts).to_csv(index=False),
                       file_name="training-results.csv", mime="text/csv", icon=":material/download:",
                       key="trn_csv", disabled=not attempts)
    done = completed(deck, attempts)
    label = "Download completion certificate (PDF)" if done else "Download training record (PDF)"
    if name:
        c2.download_button(label, lambda: certificate_pdf(name, deck, attempts), file_name="training-certificate.pdf",
                           mime="application/pdf", icon=":material/workspace_premium:", key="trn_cert")
    else:
        c2.caption("Enter your display name to download your certificate.")
    if not done:
        c2.caption(f"The completion certificate comes when all {len(deck)} exercises are passed "
                   f"({n_passed} so far); until then the PDF is your training record.")
