"""Review screen (current vs pending, changes highlighted), send / undo /
reset, override log, share link and the session report."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from pumpmodel import sandbox, sharelink
from pumpmodel.evaluation import Evaluation
from pumpmodel.programs import Case
from pumpmodel.report import session_report
from ui import sandbox_state as S
from ui.state import reset_sent, send_program, sent_program, undo_sent


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("[", "(").replace("]", ")") or " "


def review_table(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    """Current vs pending, every setting; changed rows highlighted (a markdown table: cheap to redraw)."""
    lines = ["| setting | current | pending | |", "|---|---|---|---|"]
    for r in sandbox.review_rows(case, ev, cur):
        cells = [_md(r["setting"]), _md(r["current"]), _md(r["pending"])]
        if r["changed"]:
            cells = [f":orange-background[**{c}**]" if c.strip() else c for c in cells] + [":orange[changed]"]
        else:
            cells.append(" ")
        lines.append("| " + " | ".join(cells) + " |")
    st.markdown("\n".join(lines))


def _send(case: Case, ev: Evaluation) -> None:
    pid = S.pump_id()
    entries = sandbox.override_entries(ev, S.acks(), pid, S.now())
    S.override_log().extend(entries)
    send_program(pid, case.proposed)
    S.sent_log().append({"at": S.now().isoformat(), "pump": pid, "previous": case.current, "case": case})
    data = sharelink.case_to_dict(case)
    data["current"] = data["proposed"]
    data.pop("refill", None)  # the refill visit is done: the reservoir now holds what was added
    data["reservoir_ml"] = case.start_volume_ml
    data.pop("first_fill", None)
    S.reseed(data)
    st.session_state["sbx_acks"] = {}
    st.session_state["sbx_flash"] = f"Sent to the simulated pump {pid}" + (
        f"; {len(entries)} override(s) logged." if entries else ".")


def _undo() -> None:
    log = S.sent_log()
    if undo_sent(S.pump_id()) and log:
        last = log.pop()
        data = sharelink.case_to_dict(last["case"])
        S.reseed(data)
        st.session_state["sbx_flash"] = "Undone: the pump runs its previous program again."


def _reset() -> None:
    reset_sent(S.pump_id())
    log = S.sent_log()
    first = next((e for e in log if e["pump"] == S.pump_id()), None)
    st.session_state["sbx_sent_log"] = [e for e in log if e["pump"] != S.pump_id()]
    if first is not None:
        S.reseed(sharelink.case_to_dict(first["case"].model_copy(update={"current": first["previous"]})))
    st.session_state["sbx_flash"] = "Reset: the pump is back to the story's original program."


def send_panel(case: Case, ev: Evaluation) -> None:
    check = sandbox.send_check(ev, S.acks())
    pid = S.pump_id()
    if check.allowed:
        st.markdown(f"Ready to send to the simulated pump **{pid}**.")
    else:
        st.warning("Sending is blocked:\n" + "\n".join(f"- {r}" for r in check.reasons), icon=":material/block:")
    row = st.container(horizontal=True)  # one block instead of st.columns' four
    row.button("Send to the simulated pump", type="primary", disabled=not check.allowed, key="sbx_send",
              on_click=_send, args=(case, ev), icon=":material/send:")
    has_sent = sent_program(pid) is not None
    row.button("Undo last send", disabled=not has_sent, key="sbx_undo", on_click=_undo, icon=":material/undo:")
    row.button("Reset to the original", disabled=not has_sent, key="sbx_reset", on_click=_reset,
              icon=":material/restart_alt:")
    flash = st.session_state.pop("sbx_flash", None)
    if flash:
        st.success(flash, icon=":material/check:")
    if S.override_log():
        st.markdown("**Override log** (this session)")
        st.dataframe(pd.DataFrame(S.override_log())[["at", "pump", "code", "drug", "reason"]], hide_index=True,
                     width="stretch")


def share_and_report(case: Case, ev: Evaluation, cur: Evaluation | None) -> None:
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Share link**: the page address holds the whole case; copy it from the address bar.")
        box = st.expander("The link (relative to this server)", key="sbx_link_box", on_change="rerun")
        if box.open:  # lazy: not re-sent on every edit while closed
            box.code(sharelink.link("/sandbox", case), language=None, wrap_lines=True)
        st.download_button("Download case JSON", json.dumps(sharelink.case_to_dict(case), indent=2),
                           file_name="case.json", mime="application/json", key="sbx_dl_json",
                           icon=":material/download:", on_click="ignore")
    with c2:
        st.markdown("**Session report** (PDF: programs, doses, dates, warnings, override log, JSON)")
        overrides = list(S.override_log())
        pid, sent = S.pump_id(), sent_program(S.pump_id()) is not None
        st.download_button("Download session report (PDF)",
                           lambda: session_report(case, ev, cur, overrides, pid, sent),
                           file_name="session-report.pdf", mime="application/pdf", key="sbx_dl_pdf",
                           icon=":material/picture_as_pdf:", on_click="ignore")
