"""Sandbox session state: the draft case, where it came from, and the URL.

Everything lives in ``st.session_state`` under ``sbx_*`` keys (one browser
session each) and in ``?case=`` (the draft as a share link), never in module
globals. Widgets are keyed by a *generation*: loading a case bumps it, so the
editor's widgets start again from the loaded values, while edits within a
generation keep exactly what the user typed.
"""
from __future__ import annotations

import copy
from datetime import datetime

import streamlit as st
from pydantic import ValidationError

from pumpmodel import sandbox, sharelink
from pumpmodel.programs import Case
from ui.state import selected_pump_id

NO_PUMP = "sandbox-pump"  # the simulated pump for cases not started from a story pump (new implant, shared link)
TARGET_PARAM = "send_to"  # ?send_to=ID: the link's case was started from that pump (sending goes there)


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


def origin() -> str:
    return st.session_state.get("sbx_origin", "")


def load(data: dict, origin_text: str, problems: list[dict] | None = None, token: str | None = None,
         target: str | None = None) -> None:
    """Start the editor again from ``data`` (a spec-format dict); ``target``: the pump it belongs to."""
    st.session_state["sbx_seed"] = copy.deepcopy(data)
    st.session_state["sbx_draft"] = copy.deepcopy(data)
    st.session_state["sbx_gen"] = gen() + 1
    st.session_state["sbx_origin"] = origin_text
    st.session_state["sbx_load_problems"] = problems or []
    st.session_state["sbx_token"] = token or sharelink.encode(data)
    st.session_state["sbx_pump"] = selected_pump_id()
    st.session_state["sbx_gen_loaded"] = gen()
    st.session_state["sbx_target"] = target


def reseed(data: dict | None = None) -> None:
    """Widgets start again from ``data`` (default: the live draft), same origin."""
    data = copy.deepcopy(data if data is not None else draft())
    st.session_state["sbx_seed"] = data
    st.session_state["sbx_draft"] = copy.deepcopy(data)
    st.session_state["sbx_gen"] = gen() + 1


def pump_case(pid: str | None) -> tuple[dict, str, str | None]:
    """The selected pump's current state (``ui.data.current_case``) or a blank new implant."""
    if pid:
        try:
            from ui.data import current_case  # built by the clinician-pages engineer
        except ImportError:
            current_case = None
        if current_case is not None:
            try:
                case = current_case(pid)
            except (KeyError, LookupError, ValueError):
                case = None
            if case is not None:
                return sharelink.case_to_dict(case), f"pump {pid}: current program and state", pid
    return sandbox.blank_case(), "blank pump (new implant)", None


def start_blank(profile: str, drug: str) -> None:
    load(sandbox.blank_case(profile, drug=drug), f"blank {profile} pump (new implant)")


def start_from_pump() -> None:
    data, text, target = pump_case(selected_pump_id())
    load(data, text, target=target)


def sync_in() -> None:
    """Before drawing: take a new ``?case=`` link, a newly selected pump, or start from the pump."""
    token = st.query_params.get(sharelink.PARAM)
    pending = st.session_state.pop("sbx_pending", None)  # from the case import page
    if pending is not None:
        load(pending["data"], pending["origin"])
    elif token and token != st.session_state.get("sbx_token"):
        try:
            data = sharelink.decode_dict(token)
        except sharelink.ShareLinkError as exc:
            errors = [{"loc": [sharelink.PARAM], "msg": str(exc)}, *exc.errors]
            load(sandbox.blank_case(), "blank pump (the link could not be read)", errors, token)
            return
        problems = []
        try:
            Case.model_validate(data)
        except ValidationError as exc:
            problems = sharelink.validation_errors(exc)
        target = st.query_params.get(TARGET_PARAM)
        load(data, "shared link", problems, token, target if target and target == selected_pump_id() else None)
    elif "sbx_draft" not in st.session_state or st.session_state.get("sbx_pump") != selected_pump_id():
        start_from_pump()


def sync_out(data: dict) -> None:
    """After the editor: keep the draft and the URL in step (a reload loses nothing)."""
    st.session_state["sbx_draft"] = data
    token = sharelink.encode(data)
    st.session_state["sbx_token"] = token
    if st.query_params.get(sharelink.PARAM) != token:
        st.query_params[sharelink.PARAM] = token
    target = st.session_state.get("sbx_target")
    if target and st.query_params.get(TARGET_PARAM) != target:
        st.query_params[TARGET_PARAM] = target
    elif not target and TARGET_PARAM in st.query_params:
        del st.query_params[TARGET_PARAM]


def validate(data: dict) -> tuple[Case | None, list[dict]]:
    try:
        return Case.model_validate(data), []
    except ValidationError as exc:
        return None, sharelink.validation_errors(exc)


def acks() -> dict[str, str]:
    """Acknowledgement reasons of the soft findings, by ``sandbox.ack_key``."""
    return st.session_state.setdefault("sbx_acks", {})


def override_log() -> list[dict]:
    return st.session_state.setdefault("sbx_override_log", [])


def sent_log() -> list[dict]:
    return st.session_state.setdefault("sbx_sent_log", [])


def now() -> datetime:
    return datetime.now().replace(microsecond=0)
