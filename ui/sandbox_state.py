"""Sandbox state: the draft case, where it came from, and the URL.

The draft lives in the workspace store (``ui.workspace``): every edit is a
draft version (undo / redo move between them), so a reload, a second tab or
coming back from another page finds it again. ``st.session_state`` only
holds what the widgets need this session (``sbx_*`` keys): the seed the
editor starts from and its *generation*: loading a case bumps it, so the
editor's widgets start again from the loaded values, while edits within a
generation keep exactly what the user typed. The address holds the draft as
a share link (``?case=``).

Each loaded case gets a new *case key*; acknowledgements belong to one case
key and one finding (``pumpmodel.sandbox.ack_key``), so they never carry
over to another case.
"""
from __future__ import annotations

import copy
import secrets
from datetime import datetime

import streamlit as st
from pydantic import ValidationError

from pumpmodel import sandbox, sharelink
from pumpmodel.programs import Case
from pumpmodel.store import Draft
from ui import workspace
from ui.state import selected_pump_id

NO_PUMP = "sandbox-pump"  # the simulated pump for cases not started from a story pump (new implant, shared link)
TARGET_PARAM = "send_to"  # ?send_to=ID: the link's case was started from that pump (sending goes there)
SLOT = "sandbox"


def gen() -> int:
    return st.session_state.get("sbx_gen", 0)


def key(name: str) -> str:
    """A widget key of the current generation."""
    return f"sbx{gen()}_{name}"


def seed() -> dict:
    return st.session_state["sbx_seed"]


def draft() -> dict:
    return st.session_state["sbx_draft"]


def entry() -> str:
    """``rate`` (enter mL/day) or ``dose`` (enter the first drug's dose per day)."""
    return st.session_state.get("sbx_entry", "rate")


def pump_id() -> str:
    """Where "send" goes: the pump the case was started from, else the sandbox's own simulated pump."""
    return st.session_state.get("sbx_target") or NO_PUMP


def target() -> str | None:
    """The pump the case belongs to (None: a blank pump, a link or a demo)."""
    return st.session_state.get("sbx_target")


def origin() -> str:
    return st.session_state.get("sbx_origin", "")


def case_key() -> str:
    """The loaded case's key (acknowledgements belong to it)."""
    return st.session_state.get("sbx_case_key") or "-"


def stored() -> Draft | None:
    return workspace.current().draft(SLOT)


def _show(data: dict, d: Draft | None, origin_text: str, target: str | None, ckey: str,
          problems: list[dict] | None = None) -> None:
    """Widgets start again from ``data``; the address follows. Another case than before (undo
    across a start-from, say) asks for a whole-page rerun (the start bar shows the origin)."""
    if ckey != st.session_state.get("sbx_case_key"):
        st.session_state["sbx_app_rerun"] = True
        st.session_state.pop("sbx_last_valid", None)
    st.session_state["sbx_seed"] = copy.deepcopy(data)
    st.session_state["sbx_draft"] = copy.deepcopy(data)
    st.session_state["sbx_gen"] = gen() + 1
    st.session_state["sbx_fresh"] = True  # the editor's first read of it replaces the version (no undo step)
    st.session_state["sbx_origin"] = origin_text
    st.session_state["sbx_target"] = target
    st.session_state["sbx_case_key"] = ckey
    st.session_state["sbx_load_problems"] = problems or []
    st.session_state["sbx_gen_loaded"] = gen()
    st.session_state["sbx_pump"] = selected_pump_id()
    st.session_state["sbx_undo_state"] = (d.can_undo, d.can_redo) if d else (False, False)
    _url(data)


def _url(data: dict) -> None:
    token = sharelink.encode(data)
    st.session_state["sbx_token"] = token
    if st.query_params.get(sharelink.PARAM) != token:
        st.query_params[sharelink.PARAM] = token
    target = st.session_state.get("sbx_target")
    if target and st.query_params.get(TARGET_PARAM) != target:
        st.query_params[TARGET_PARAM] = target
    elif not target and TARGET_PARAM in st.query_params:
        del st.query_params[TARGET_PARAM]


def load(data: dict, origin_text: str, problems: list[dict] | None = None, target: str | None = None,
         label: str = "start") -> None:
    """Replace the draft by ``data`` (a spec-format dict), a new case (undo brings the previous
    one back); ``target``: the pump it belongs to."""
    ckey = secrets.token_hex(8)
    d = workspace.current().save_draft(data, slot=SLOT, origin=origin_text, target=target, case_key=ckey,
                                       label=label)
    _show(data, d, origin_text, target, ckey, problems)


def restore(d: Draft) -> None:
    """Show a stored draft version (after undo / redo, a reload, another tab)."""
    _show(d.case, d, d.origin, d.target, d.case_key or "-")


def reseed(data: dict | None = None, label: str = "edit") -> None:
    """Widgets start again from ``data`` (default: the live draft), same case (an undo step)."""
    data = copy.deepcopy(data if data is not None else draft())
    d = workspace.current().save_draft(data, slot=SLOT, label=label)
    _show(data, d, origin(), st.session_state.get("sbx_target"), case_key(),
          st.session_state.get("sbx_load_problems"))
    st.session_state["sbx_gen_loaded"] = -1  # load problems were about the loaded case, not this one


def pump_case(pid: str | None) -> tuple[dict, str, str | None]:
    """The selected pump's current state (``ui.data.current_case``) or a blank new implant."""
    if pid:
        from ui.data import current_case

        try:
            case = current_case(pid)
        except (KeyError, LookupError, ValueError):
            case = None
        if case is not None:
            return sharelink.case_to_dict(case), f"pump {pid}: current program and state", pid
    return sandbox.blank_case(), "blank pump (new implant)", None


def start_blank(profile: str, drug: str) -> None:
    load(sandbox.blank_case(profile, drug=drug), f"blank {profile} pump (new implant, {drug})",
         label="start from blank")


def start_from_pump() -> None:
    data, text, target = pump_case(selected_pump_id())
    load(data, text, target=target, label="start from pump")


def start_from_link(token: str) -> None:
    """A share link's case (its problems listed; a link that cannot be read gives a blank pump)."""
    try:
        data = sharelink.decode_dict(token)
    except sharelink.ShareLinkError as exc:
        errors = [{"loc": [sharelink.PARAM], "msg": str(exc)}, *exc.errors]
        load(sandbox.blank_case(), "blank pump (the link could not be read)", errors, label="start from link")
        return
    problems = []
    try:
        Case.model_validate(data)
    except ValidationError as exc:
        problems = sharelink.validation_errors(exc)
    target = st.query_params.get(TARGET_PARAM)
    load(data, "shared link", problems, target if target and target == selected_pump_id() else None,
         label="start from link")


def start_from_pasted_link() -> None:
    """The share link pasted in the start bar (a whole address or just its ``case=`` value)."""
    from urllib.parse import parse_qs, urlsplit

    text = (st.session_state.get("sbx_link_in") or "").strip()
    if not text:
        return
    query = urlsplit(text).query if "?" in text else ""
    token = (parse_qs(query).get(sharelink.PARAM) or [None])[0] if query else text.removeprefix("case=")
    start_from_link(token or text)
    st.session_state["sbx_link_in"] = ""


def undo() -> None:
    d = workspace.current().undo_draft(SLOT)
    if d is not None:
        restore(d)


def redo() -> None:
    d = workspace.current().redo_draft(SLOT)
    if d is not None:
        restore(d)


def discard() -> None:
    """Back to the case as it was loaded (an undo step: *Undo* brings the edits back)."""
    base = workspace.current().draft_base(SLOT)
    if base is not None:
        reseed(base.case, label="discard changes")


def _same(data: dict, token: str) -> bool:
    try:
        return sharelink.decode_dict(token) == data
    except sharelink.ShareLinkError:
        return False


def sync_in() -> None:
    """Before drawing: take a case from the import page, a new ``?case=`` link, the stored draft
    (reload, another tab, back from another page), a newly selected pump, or start from the pump."""
    token = st.query_params.get(sharelink.PARAM)
    pending = st.session_state.pop("sbx_pending", None)  # from the case import page
    if pending is not None:
        load(pending["data"], pending["origin"])
        return
    have = "sbx_draft" in st.session_state
    if token and token != st.session_state.get("sbx_token"):
        d = None if have else stored()
        if d is not None and _same(d.case, token):
            restore(d)  # a reload or a second tab: the stored draft with its undo history
        else:
            start_from_link(token)
        return
    if have:
        if st.session_state.get("sbx_pump") != selected_pump_id() and st.session_state.get("sbx_target"):
            start_from_pump()  # the user picked another pump in the sidebar
        return
    d = stored()
    if d is not None:
        restore(d)
    else:
        start_from_pump()


def sync_out(data: dict) -> None:
    """After the editor: store the draft (an undo step when it changed) and keep the URL in step."""
    if data != st.session_state.get("sbx_draft") or st.session_state.get("sbx_fresh"):
        fresh = st.session_state.pop("sbx_fresh", False)
        if not fresh:
            st.session_state["sbx_load_problems"] = []  # about the case as loaded: an edit makes them stale
        d = workspace.current().save_draft(data, slot=SLOT, replace=fresh)
        st.session_state["sbx_undo_state"] = (d.can_undo, d.can_redo)
    st.session_state["sbx_draft"] = data
    _url(data)


def can_undo_redo() -> tuple[bool, bool]:
    return st.session_state.get("sbx_undo_state", (False, False))


def keep_valid(case: Case) -> None:
    """Remember the last valid case (shown, marked stale, while a field is invalid)."""
    st.session_state["sbx_last_valid"] = case


def last_valid() -> Case | None:
    """The last valid program of this case: kept in the session while editing; after a reload
    (or in another tab) the newest earlier version of the case in the workspace that is valid."""
    case = st.session_state.get("sbx_last_valid")
    if case is None and st.session_state.get("sbx_history_searched") != case_key():
        st.session_state["sbx_history_searched"] = case_key()  # once per case, not on every rerun
        for data in workspace.current().earlier_cases(SLOT):
            case, errors = validate(data)
            if case is not None:
                st.session_state["sbx_last_valid"] = case
                break
    return case


def validate(data: dict) -> tuple[Case | None, list[dict]]:
    try:
        return Case.model_validate(data), []
    except ValidationError as exc:
        return None, sharelink.validation_errors(exc)


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


