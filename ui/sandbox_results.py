"""Sandbox results: validation problems, current vs proposed, charts,
guardrails with acknowledgements, and the formulas behind the numbers."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pumpmodel import sandbox
from pumpmodel import sandbox_input as si
from pumpmodel.evaluate import evaluate
from pumpmodel.evaluation import Evaluation
from pumpmodel.figures.sandbox import reservoir_figure, schedule_figure
from pumpmodel.programs import Case
from pumpmodel.units import fmt, fmt_text
from ui import present, sandbox_acks
from ui.html_table import html_table
from ui.live_chart import live_chart
from ui.safe_text import code, md

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}  # as ui/clinician.py
BADGE = {"hard": ":red-badge[HARD]", "soft": ":orange-badge[SOFT]", "info": ":blue-badge[INFO]"}


@st.cache_data(max_entries=512, show_spinner=False)
def _evaluate_json(case_json: str) -> tuple[Evaluation, Evaluation | None]:
    """Evaluation of a case (and of its current program alone); pure, keyed by the case JSON."""
    case = Case.model_validate_json(case_json)
    return evaluate(case), sandbox.current_evaluation(case)


def evaluations(case: Case) -> tuple[Evaluation, Evaluation | None]:
    return _evaluate_json(case.model_dump_json())


def problems(errors: list[dict], title: str, fields: list | None = None) -> None:
    """Validation problems in plain words: the editor's field problems (``(loc, Problem)``), then
    pydantic's (``{"loc", "msg"}``) about other fields; never a traceback."""
    fields = fields or []
    covered = [tuple(loc) for loc, _ in fields]

    def mine(e) -> bool:
        loc = tuple(e["loc"])
        return any(loc[:len(c)] == c for c in covered) or (
            loc == ("proposed",) and any(c[:1] == ("proposed",) and c[-1] in str(e["msg"]) for c in covered))

    lines = [str(p) for _, p in fields] + si.plain_errors([e for e in errors if not mine(e)])
    text = "\n".join(f"- {md(line, 300)}" for line in lines[:50])
    st.error(f"**{md(title)}**\n\n{text}", icon=":material/error:")




def comparison(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    """Current vs proposed as a plain HTML table: redrawn on every edit, and far cheaper for the
    browser than a data grid or a markdown table (labels wrap instead of being cut)."""
    cols = ["figure", "current", "proposed", "change"] if cur is not None else ["figure", "proposed"]
    html_table(cols, ([r[c] for c in cols] for r in sandbox.comparison_rows(case, ev, cur)),
               name="Current vs proposed", note="'all PTM': with every allowed patient bolus taken")
    if ev.bridge_bolus is not None:
        b = ev.bridge_bolus
        hrs = "never (nothing delivered)" if b.hours_to_clear_without is None else fmt(b.hours_to_clear_without, "h")
        st.info(f"**Bridge bolus** (drug or concentration changes): {fmt(b.volume_ml, 'mL')} of old solution fills the "
                f"catheter and tubing. Without a bridge bolus the new program needs {hrs} to clear it.",
                icon=":material/swap_horiz:")


def charts(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    # theme=None: the figures carry the app's shared chart style (as on the clinician pages),
    # and the browser skips re-theming them on every redraw
    schedule, reservoir = schedule_figure(case.current, case.proposed), reservoir_figure(case, ev, cur)
    if present.on():  # fresh figures (not shared): enlarged in place for the back of the room
        present.scale_figure(schedule)
        present.scale_figure(reservoir)
    row = st.container(horizontal=True)  # side by side: one block instead of st.columns' three
    with row:
        live_chart(schedule, key="sbx_schedule_chart", config=CHART_CONFIG)
        live_chart(reservoir, key="sbx_reservoir_chart", config=CHART_CONFIG)


def guardrails(ev: Evaluation) -> dict:
    """Every finding with severity, code, message and source; soft ones take an acknowledgement + reason.
    Returns this case's acknowledgements of the findings shown (``sandbox_acks.prune``)."""
    hard = sum(f.severity == "hard" for f in ev.warnings)
    soft = sum(f.severity == "soft" for f in ev.warnings)
    st.subheader(f"Guardrails: {hard} hard, {soft} soft, {len(ev.warnings) - hard - soft} info")
    if not ev.warnings:
        st.success("No guardrail finding for this proposal.", icon=":material/check_circle:")
    acks = sandbox_acks.prune(ev)
    for f in ev.warnings:
        # one markdown per finding (badge, code, message, source, what a hard one means) and the
        # acknowledgement in one horizontal row: few elements, as the panel is redrawn on every edit
        with st.container(border=True):
            drug = f" ({f.drug})" if f.drug else ""
            block = "  \n:red[Blocks sending: reprogram to clear it.]" if f.severity == "hard" else ""
            st.markdown(f"{BADGE[f.severity]} `{f.code}`{drug}  \n{fmt_text(f.message)}  \n"
                        f":small[:gray[Source: {f.source}]]{block}")
            if f.severity == "soft":
                sandbox_acks.ack_row(f, acks)
    return acks


FIGURES = {"daily_volume_ml": "Daily volume (mL/day)", "max_daily_volume_ml": "Heaviest day's volume (mL/day)",
           "low_reservoir_alarm_at": "Low-reservoir alarm", "empty_at": "Reservoir empty",
           "low_reservoir_alarm_at_worst_case": "Low-reservoir alarm, every PTM bolus taken",
           "refill_by": "Refill by"}


def figure_label(figure: str) -> str:
    """An explanation's heading in words (``daily_dose.baclofen`` -> ``Daily dose of baclofen``)."""
    if figure.startswith("daily_dose."):
        return f"Daily dose of {figure.split('.', 1)[1]}"
    return FIGURES.get(figure, figure.replace("_", " ").capitalize())


def explanations(ev: Evaluation) -> None:
    # lazy: the formulas (a dozen elements) are drawn only while the expander is open, so an
    # edit does not re-send them to the browser when nobody is reading them
    box = st.expander("Explain the numbers: formulas with the values and the limits' sources",
                      key="sbx_explain_box", on_change="rerun")
    if not box.open:
        return
    with box:
        for x in ev.explanations:
            st.markdown(f"**{figure_label(x.figure)}**")
            st.code(fmt_text(x.formula), language=None, wrap_lines=True)
            if x.source:
                st.caption(f"Source: {x.source}")
        limits = [f for f in ev.warnings if f.limit is not None]
        if limits:
            st.markdown("**Limits checked**")
            st.dataframe(pd.DataFrame([{"warning": f.code, "drug": f.drug or "", "value": fmt(f.value, f.unit),
                                        "limit": fmt(f.limit, f.unit), "source": f.source} for f in limits]),
                         hide_index=True, width="stretch")
