"""Streamlit pieces of the trial page: the trial (from the selected pump, editable as JSON),
its response, the first program it leads to (opened in the sandbox as a new implant), and
the systemic-to-intrathecal conversion calculator. Logic lives in ``pumpmodel.trial``."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from pumpmodel import evaluate, library, sharelink
from pumpmodel.figures.trial import conversion_figure, trial_response_figure
from pumpmodel.trial import TRIAL_TYPE_LABELS, Trial
from pumpmodel.trial import conversion as cv
from pumpmodel.trial.first_program import first_program_case
from pumpmodel.trial.response import dose_responses, outcome
from pumpmodel.trial.rules import conversions, scale, trial_rules
from pumpmodel.trial.start import NoStartDose, StartDose, start_dose
from pumpmodel.units import num
from ui import data
from ui.clinician import chart, findings
from ui.safe_text import code, md
from ui.sandbox_results import problems

ROUTE_LABELS = {"oral": "oral", "iv": "intravenous", "epidural": "epidural"}


def pump_trial(pump_id: str | None) -> tuple[Trial | None, str]:
    """The trial recorded for the selected pump, and a line saying whose it is."""
    pt = data.pump(pump_id)
    if pt is None:
        return None, "No pump selected: pick a story patient in the sidebar."
    trial = pt.trial()
    label = f"**{md(pt.info.get('patient_label'))}** {code(pump_id)}"  # from an uploaded file: text
    if trial is None:
        return None, f"{label}: no screening trial is recorded for this pump."
    return trial, label


def trial_editor(trial: Trial | None, pump_id: str | None) -> Trial | None:
    """The trial as editable JSON (kept as typed; problems listed by field). Returns the trial in use."""
    box = st.expander("Edit the trial (JSON): try another dose, score or trial type", expanded=trial is None)
    seed = json.dumps(trial.model_dump(mode="json", exclude_none=True), indent=2) if trial else ""
    text = box.text_area("Trial JSON", value=seed, height=260, key=f"trial_json_{pump_id}",
                         help="Fields: type, drug, unit, indication, scale, doses (at + amount, or at + "
                              "dose_per_day), readings (at + score), side_effects, note.")
    if not text.strip():
        return None
    if text == seed:
        return trial
    try:
        return Trial.model_validate(sharelink.parse_json(text))
    except sharelink.ShareLinkError as exc:
        with box:
            problems(exc.errors, "The trial is not valid JSON; showing the recorded trial (your text is kept)")
    except ValidationError as exc:
        with box:
            problems(sharelink.validation_errors(exc), "The edited trial has problems; showing the recorded "
                                                       "trial (your text is kept)")
    return trial


def trial_summary(trial: Trial) -> None:
    rule = scale(trial.scale)
    st.markdown(f"**{TRIAL_TYPE_LABELS[trial.type]}** of **{trial.drug}**"
                + (f" for {trial.indication.replace('_', ' ')}" if trial.indication else "")
                + f", {trial.started_at:%Y-%m-%d} to {trial.end:%Y-%m-%d}; response on the {rule.label}.")
    if trial.note:
        st.caption(md(trial.note))  # typed in the trial JSON or uploaded: text, never markdown
    chart(trial_response_figure(trial, title=f"Screening trial: {rule.axis_title.split(' (')[0]} and doses"),
          key="trial_response_chart")
    rows = [{"dose": r.label, "given (pump clock)": f"{r.at:%Y-%m-%d %H:%M}",
             "score before": _pts(r.baseline), "best after": _pts(r.best), "drop": _pts(r.reduction),
             "met the rule": "yes" if r.effective else "no",
             "bolus effect lasted": f"{num(r.effect_hours, 3)} h" if r.kind == "bolus" and r.effect_hours else ""}
            for r in dose_responses(trial)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.markdown(outcome(trial))
    st.caption(f"Rule: {rule.criterion_text}. Source: {rule.source}" + (" (assumed)" if rule.assumed else ""))
    if trial.side_effects:
        st.markdown("Side effects: " + "; ".join(f"{s.at:%Y-%m-%d %H:%M} {md(s.effect)} ({s.severity})"
                                                 for s in trial.side_effects))


def _pts(x: float | None) -> str:
    return "" if x is None else num(round(x, 2))


def start_section(trial: Trial, pump_id: str | None) -> None:
    try:
        sd = start_dose(trial)
    except NoStartDose as exc:
        st.error(md(exc), icon=":material/block:")
        return
    _start_text(sd)
    pt = data.pump(pump_id)
    profiles = list(library.pump_profiles())
    default = pt.info["profile"] if pt is not None else profiles[0]
    row = st.container(horizontal=True)
    profile = row.selectbox("Pump profile", profiles, index=profiles.index(default), key="trial_profile")
    drug = library.drug(trial.drug)
    spec = library.profile(profile)
    conc0 = trial_rules().first_program.concentrations.get(trial.drug, 1.0)
    conc = None
    if not spec.fixed_rate:
        conc = row.number_input(f"Concentration ({drug.concentration_unit})", min_value=0.001, value=float(conc0),
                                step=float(conc0) / 2, format="%g", key=f"trial_conc_{trial.drug}")
    dose = row.number_input(f"First dose ({drug.dose_unit})", min_value=0.0, value=float(sd.dose_per_day),
                            format="%g", key=f"trial_dose_{trial.drug}_{sd.dose_per_day:g}",
                            help="Try a dose above the start to see the sandbox's start-dose guardrail.")
    if dose <= 0:
        st.warning("First dose: enter a dose above 0 (your value is kept).")
        return
    now = None
    if pt is not None and pt.trial() == trial and pd.notna(pt.info.get("implant_date")):
        now = pd.Timestamp(pt.info["implant_date"]).to_pydatetime()  # the pump's real implant day
    case = first_program_case(trial, profile=profile, concentration=conc, dose_per_day=dose, now=now)
    ev = evaluate(case)
    rate = case.proposed.rate_ml_per_day
    c = case.proposed.drugs[0]
    st.markdown(f"New implant: **{num(dose)} {drug.dose_unit}** = {num(rate, 4)} mL/day x {num(c.concentration)} "
                f"{c.unit}, simple continuous, first fill, no current program; next visit "
                f"{case.next_appointment:%Y-%m-%d}. {trial_rules().first_program.concentration_source}.")
    findings(ev.warnings)
    link = sharelink.link("sandbox", case)
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    if c1.button("Open in the sandbox", type="primary", icon=":material/tune:", key="trial_open"):
        st.session_state["sbx_pending"] = {"data": sharelink.case_to_dict(case),
                                           "origin": f"first program after the {trial.drug} trial (new implant)"}
        st.switch_page("pages/sandbox.py")
    c2.markdown(f"[Share link to this new-implant case]({link})")


def _start_text(sd: StartDose) -> None:
    where = {"within": "within", "above": "above (capped at the top of)", "below": "below"}[sd.position]
    st.markdown(f"**Starting dose: {num(sd.dose_per_day)} {sd.unit}** ({sd.formula}); the trial-derived figure is "
                f"{where} the usual start ({sd.range_text}).")
    for n in sd.notes:
        st.markdown(f"- {n}")
    st.caption(f"Source: {sd.source}" + (" (assumed training rule)" if sd.assumed else ""))


def conversion_section() -> None:
    st.warning(conversions().statement, icon=":material/priority_high:")
    row = st.container(horizontal=True)
    routes = cv.routes()
    route = row.selectbox("Systemic morphine by", routes, format_func=ROUTE_LABELS.get, key="conv_route")
    dose = row.number_input("Daily dose (mg/day)", min_value=0.0, value=60.0, step=10.0, format="%g",
                            key="conv_dose")
    target = row.selectbox("Intrathecal drug", cv.targets(), key="conv_target")
    try:
        conv = cv.convert(dose, route, target)
    except cv.ConversionError as exc:
        st.error(f"{md(exc)} (your value is kept).", icon=":material/error:")
        return
    st.markdown(conv.summary().replace(conv.statement, "").strip())
    chart(conversion_figure(conv, title=f"Conversion vs usual start ({conv.target})"),
          key="conversion_chart")
    st.markdown("How the numbers come about:\n" + "\n".join(f"- {s}" for s in conv.steps))
    data_ = conversions()
    st.caption("Sources: " + " | ".join(f"{s.from_}:{s.to} {num(s.ratio)}:1: {s.source}" for s in data_.route_chain)
               + f" | observed: {data_.observed_oral_to_intrathecal.source} | starting range: {conv.start_source}"
               + (f" | equivalence: {conv.potency_source}" if conv.target != "morphine" else ""))
