"""Review screen (current vs pending, changes highlighted), send / undo /
reset, override log, share link and the session report.

Sent programs, acknowledgements and the override log live in the workspace
store (``ui.state``, ``ui.workspace``): a reload or a second tab keeps them."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from pumpmodel import sandbox, sharelink
from pumpmodel.evaluation import Evaluation
from pumpmodel.figures.sandbox import reservoir_figure, schedule_figure
from pumpmodel.programs import Case
from pumpmodel.report import session_report
from pumpmodel.store import Override
from pumpmodel.units import fmt_text
from ui import sandbox_state as S
from ui import workspace
from ui.charts import figure_csv
from ui.html_table import html_table
from ui.safe_text import md
from ui.sandbox_acks import ack_reasons
from ui.state import last_sent, reset_sent, send_program, undo_sent


def review_table(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    """Current vs pending, every setting; changed rows highlighted and marked in words (a plain
    HTML table: cheap to redraw; three columns, so that it fits a phone's width)."""
    rows = sandbox.review_rows(case, ev, cur)
    html_table(["setting", "current", "pending"], ([r["setting"], r["current"], r["pending"]] for r in rows),
               name="Review: current vs pending", marked=[i for i, r in enumerate(rows) if r["changed"]])


def _after_send(case: Case) -> dict:
    """The case after a send: the proposal is now the current program; the refill visit is done."""
    data = sharelink.case_to_dict(case)
    data["current"] = data["proposed"]
    data.pop("refill", None)  # the reservoir now holds what was added
    data["reservoir_ml"] = case.start_volume_ml
    data.pop("first_fill", None)
    return data


def _send(case: Case, ev: Evaluation) -> None:
    pid = S.pump_id()
    reasons = ack_reasons(ev)
    overrides = [Override(code=e["code"], reason=e["reason"], severity="soft", message=e["message"], drug=e["drug"])
                 for e in sandbox.override_entries(ev, reasons, pid, case.now)]
    send_program(pid, case.proposed, case.now, case=sharelink.case_to_dict(case), case_key=S.case_key(),
                 overrides=overrides)
    S.load(_after_send(case), f"pump {pid} after sending" if pid != S.NO_PUMP else f"{S.origin()}, after sending",
           target=S.target(), label="send")
    st.session_state["sbx_flash"] = f"Sent to the simulated pump {pid}" + (
        f"; {len(overrides)} override(s) logged." if overrides else ".")


def _undo_send() -> None:
    pid = S.pump_id()
    last = last_sent(pid)
    if undo_sent(pid):
        if last is not None and last.case is not None:
            S.load(last.case, f"{S.origin()} (send undone)", target=S.target(),
                   label="undo send")
        st.session_state["sbx_flash"] = "Undone: the pump runs its previous program again."


def _reset() -> None:
    reset_sent(S.pump_id())
    if S.target():
        S.start_from_pump()
    st.session_state["sbx_flash"] = "Reset: the pump is back to its original program."


def nothing_changed(case: Case) -> bool:
    """The proposal is the program the pump runs, and no refill visit: nothing to send."""
    return (case.current is not None and case.proposed == case.current and case.refill is None
            and not case.first_fill)


def send_panel(case: Case, ev: Evaluation, acks: dict | None = None) -> None:
    """Whether the proposal can be sent (``acks``: the acknowledgements the guardrails panel read
    in this run), the send / undo / reset buttons and the override log."""
    check = sandbox.send_check(ev, ack_reasons(ev, acks))
    pid = S.pump_id()
    same = nothing_changed(case)
    if same:
        st.info(f"Nothing to send: the proposal is the program pump **{pid}** runs now.", icon=":material/info:")
    elif check.allowed:
        st.markdown(f"Ready to send to the simulated pump **{pid}**.")
    else:
        st.warning("Sending is blocked:\n" + "\n".join(f"- {fmt_text(r)}" for r in check.reasons),
                   icon=":material/block:")
    row = st.container(horizontal=True)  # one block instead of st.columns' four
    row.button("Send to the simulated pump", type="primary", disabled=same or not check.allowed, key="sbx_send",
               on_click=_send, args=(case, ev), icon=":material/send:")
    has_sent = last_sent(pid) is not None
    row.button("Undo last send", disabled=not has_sent, key="sbx_undo_send", on_click=_undo_send,
               icon=":material/undo:")
    row.button("Reset pump to its original program", disabled=not has_sent, key="sbx_reset", on_click=_reset,
               icon=":material/restart_alt:")
    flash = st.session_state.pop("sbx_flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    log = override_rows()
    if log:
        st.markdown("**Override log** (this workspace, newest first)")
        # st.table renders every cell as markdown: the typed reasons (and the rest) are escaped
        st.table(pd.DataFrame(log[::-1]).map(md).set_index("pump clock"))


def override_rows() -> list[dict]:
    """The workspace's override log for display and the report (pump clock and wall clock, UTC)."""
    return [{"pump clock": o.pump_time.strftime("%Y-%m-%d %H:%M") if o.pump_time else "",
             "wall clock (UTC)": o.sent_at.strftime("%Y-%m-%d %H:%M:%S") if o.sent_at else "",
             "pump": o.pump_id, "code": o.code, "drug": o.drug or "(all drugs)", "reason": o.reason}
            for o in workspace.current().override_log()]


def share_and_report(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Share link**: the page address holds the whole case; copy it from the address bar, "
                    "or this link (relative to this server):")
        st.code(sharelink.link("/sandbox", case), language=None, wrap_lines=True)
        st.download_button("Download case JSON", json.dumps(sharelink.case_to_dict(case), indent=2),
                           file_name="case.json", mime="application/json", key="sbx_dl_json",
                           icon=":material/download:", on_click="ignore")
    with c2:
        st.markdown("**Session report** (PDF: before vs after, charts, doses, dates, warnings, override log, JSON)")
        st.download_button("Download session report (PDF)", _report_maker(case, ev, cur),
                           file_name="session-report.pdf", mime="application/pdf", key="sbx_dl_pdf",
                           icon=":material/picture_as_pdf:", on_click="ignore")
    # the charts' text alternative: their data, drawn on click (not with every edit)
    row = st.container(horizontal=True)
    for name, make in (("schedule", lambda: schedule_figure(case.current, case.proposed)),
                       ("reservoir projection", lambda: reservoir_figure(case, ev, cur))):
        row.download_button(f"Data of the {name} chart (CSV)", lambda make=make: figure_csv(make()),
                            file_name=f"sandbox-{name.replace(' ', '-')}.csv", mime="text/csv",
                            key=f"sbx_dl_csv_{name}", icon=":material/table_view:", type="tertiary",
                            on_click="ignore")


def _report_maker(case: Case, ev: Evaluation, cur: Evaluation | None):
    """What the PDF is made of, fixed now, drawn on click: what was last sent when nothing changed
    since (before vs after of that send), else the pending proposal."""
    pid = S.pump_id()
    overrides = override_rows()
    label = _patient_label(pid)
    last = last_sent(pid)
    if last is not None and last.case is not None and nothing_changed(case):
        sent_case = Case.model_validate(last.case)
        return lambda: session_report(sent_case, *_evaluations(sent_case), overrides, pid, True,
                                      patient_label=label, sent_at=last.sent_at)
    return lambda: session_report(case, ev, cur, overrides, pid, False, patient_label=label)


def _evaluations(case: Case):
    from ui.sandbox_results import evaluations

    return evaluations(case)


def _patient_label(pid: str) -> str | None:
    from ui import data

    table = data.pumps_table()
    hit = table.loc[table["pump_id"] == pid, "patient_label"]
    return str(hit.iloc[0]) if len(hit) else None
