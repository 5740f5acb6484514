"""Acknowledgements of soft findings, kept in the workspace store.

An acknowledgement belongs to one case (``sandbox_state.case_key()``: a new
key for every loaded case) and one finding (``sandbox.ack_key``: code and
drug); it is deleted when that finding is no longer shown, and never carries
over to another case (the widgets' keys carry the case key too)."""
from __future__ import annotations

import streamlit as st

from pumpmodel import sandbox
from pumpmodel.evaluation import Evaluation, Finding
from ui import sandbox_state as S
from ui import workspace


def ack_reasons(ev: Evaluation, acks: dict | None = None) -> dict[str, str]:
    """``{ack_key: reason}`` of the findings acknowledged (ticked) in this case; '' when not ticked
    (``acks``: as already read in this run, else read from the store)."""
    acks = workspace.current().acks(S.case_key()) if acks is None else acks
    return {k: (a.reason if a.checked else "") for k, a in acks.items()}


def _keys(k: str) -> tuple[str, str]:
    return f"sbx_ack_{S.case_key()}_{k}", f"sbx_reason_{S.case_key()}_{k}"


def _save(k: str) -> None:
    ack, reason = _keys(k)
    workspace.current().set_ack(S.case_key(), k, checked=bool(st.session_state.get(ack)),
                                reason=st.session_state.get(reason) or "")


def prune(ev: Evaluation) -> dict:
    """Delete the acknowledgements of findings this case no longer shows; the rest by ack key."""
    ws = workspace.current()
    acks = ws.acks(S.case_key())
    shown = {sandbox.ack_key(f) for f in sandbox.soft_findings(ev)}
    stale = [k for k in acks if k not in shown]
    if stale:
        ws.clear_acks(S.case_key(), codes=stale)
        for k in stale:  # the widgets start empty if the finding comes back
            for wk in _keys(k):
                st.session_state.pop(wk, None)
    return {k: a for k, a in acks.items() if k in shown}


def ack_row(f: Finding, acks: dict) -> None:
    """Acknowledge checkbox and reason for one soft finding."""
    k = sandbox.ack_key(f)
    ack, reason = _keys(k)
    saved = acks.get(k)
    row = st.container(horizontal=True, vertical_alignment="center")
    row.checkbox("Acknowledge", key=ack, value=bool(saved and saved.checked), on_change=_save, args=(k,))
    row.text_input("Reason (kept in the override log)", key=reason, value=saved.reason if saved else "",
                   label_visibility="collapsed", placeholder="reason for overriding this warning",
                   on_change=_save, args=(k,))
