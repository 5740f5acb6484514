"""Telemetry for every page: the story patients (loaded once per server process and
shared by all sessions, read-only) merged with this workspace's uploads (kept in the
workspace store, ``ui.workspace``; parsed once per file), the selected pump, and its
current state as an ``evaluate()`` case.

Caching (every page run goes through here, so this is the app's hottest path):
immutable results shared by all sessions use ``st.cache_resource``: the same object
is returned, nothing is copied. ``st.cache_data`` would unpickle a fresh copy on every
call (for a pump's telemetry: pandas frames, ~5 ms each, several times per run).
Callers treat what they get as read-only (pandas copy-on-write makes derived frames
safe; nothing here is ever assigned to in place).

Cache keys are hashable text (folder, pump id, upload digest, program JSON),
never DataFrames; unhashable inputs are passed as ``_underscored`` arguments.
"""
from __future__ import annotations

import hashlib
from typing import Callable

import pandas as pd
import streamlit as st

from pumpmodel import evaluate
from pumpmodel.evaluation import Evaluation
from pumpmodel.programs import Case, Program
from pumpmodel.telemetry import STORY_DIR, Problem, PumpTelemetry, Telemetry, TelemetryError, load_telemetry, merge
from pumpmodel.store import DuplicateUpload
from ui import state, workspace

MAX_UPLOAD_MB = 25
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
_MERGED = "telemetry_merged"    # (digests, merged Telemetry): a per-session cache of derived data
_PICKER_COLUMNS = ["pump_id", "patient_label", "story", "group"]


# -- story data: shared by every session, immutable ---------------------------

@st.cache_resource(show_spinner="Loading the story patients' telemetry ...")
def _story(folder: str) -> Telemetry:
    return load_telemetry(folder)


@st.cache_resource(show_spinner=False)
def _story_pump(folder: str, pump_id: str) -> PumpTelemetry:
    return _story(folder).pump(pump_id)


@st.cache_resource(show_spinner=False)
def _story_pumps(folder: str) -> pd.DataFrame:
    """The story pumps as the picker lists them (``pumps_table`` columns)."""
    return _story(folder).pumps[_PICKER_COLUMNS].assign(source="story").reset_index(drop=True)


@st.cache_resource(show_spinner=False)
def _story_ids(folder: str) -> tuple[str, ...]:
    return tuple(_story(folder).pump_ids())


def story() -> Telemetry:
    """The whole story telemetry (shared, read-only: ``merge`` builds new objects)."""
    return _story(str(STORY_DIR))


def story_ids() -> tuple[str, ...]:
    return _story_ids(str(STORY_DIR))


# -- uploads: this workspace's, from the store ------------------------------------

@st.cache_resource(show_spinner="Reading the uploaded telemetry ...", max_entries=32)
def _stored(digest: str, name: str, _ws, upload_id: int) -> Telemetry:
    """A stored upload, parsed once per file for the process (keyed by its SHA-256: only whoever
    has the same bytes gets the same entry). Treat it as read-only."""
    return load_telemetry(_ws.upload_data(upload_id), name=name)


def uploads() -> list[dict]:
    """This workspace's uploads, oldest first: ``{"id", "name", "digest", "telemetry"}``
    (a file that no longer passes the checks is left out)."""
    ws = workspace.current()
    out = []
    for u in ws.uploads():
        try:
            tel = _stored(u.digest, u.name, ws, u.id)
        except TelemetryError:
            continue
        out.append({"id": u.id, "name": u.name, "digest": u.digest, "telemetry": tel})
    return out


@st.cache_resource(show_spinner="Checking the uploaded telemetry ...", max_entries=8)
def _parse_upload(digest: str, name: str, _data: bytes) -> Telemetry:
    return load_telemetry(_data, name=name)


def add_upload(data: bytes, name: str) -> Telemetry:
    """Validate an uploaded file and add its pumps to this workspace; raises
    ``TelemetryError`` (nothing changes) when it is too big, invalid or its
    pump ids clash with pumps already loaded."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TelemetryError([Problem(file=name, message=f"file is {len(data) / 1e6:.1f} MB; the limit is "
                                                         f"{MAX_UPLOAD_MB} MB")])
    digest = hashlib.sha256(data).hexdigest()
    if any(u["digest"] == digest for u in uploads()):
        raise TelemetryError([Problem(file=name, message="this file is already loaded in this workspace")])
    tel = _parse_upload(digest, name, data)
    merge(all_telemetry(), tel)  # raises on pump id clashes
    try:
        workspace.current().add_upload(name, data)
    except DuplicateUpload as exc:  # the same file, added from another tab meanwhile
        raise TelemetryError([Problem(file=name, message="this file is already loaded in this workspace")]) from exc
    return tel


def remove_uploads() -> None:
    workspace.current().remove_uploads()
    st.session_state.pop(_MERGED, None)


def all_telemetry() -> Telemetry:
    """Story patients plus this workspace's uploads."""
    base, ups = story(), uploads()
    if not ups:
        return base
    key = tuple(u["digest"] for u in ups)
    cached = st.session_state.get(_MERGED)
    if cached is not None and cached[0] == key:
        return cached[1]
    tel = base
    for u in ups:
        tel = merge(tel, u["telemetry"])
    st.session_state[_MERGED] = (key, tel)
    return tel


def pumps_table() -> pd.DataFrame:
    """pump_id, patient_label, story, group (story first, then uploads) without loading samples."""
    base, ups = _story_pumps(str(STORY_DIR)), uploads()
    if not ups:
        return base
    frames = [base] + [u["telemetry"].pumps[_PICKER_COLUMNS].assign(source=u["name"]) for u in ups]
    return pd.concat(frames, ignore_index=True)


_STORY_ID_SETS: dict[str, frozenset[str]] = {}
"""Story pump ids per folder, for membership tests on every run without a cache call (each
``st.cache_*`` call hashes its arguments: ~0.3 ms). Reference data read from disk, the same for
every session: never user data."""


def _is_story(pump_id: str) -> bool:
    folder = str(STORY_DIR)
    ids = _STORY_ID_SETS.get(folder)
    if ids is None:
        ids = _STORY_ID_SETS[folder] = frozenset(story_ids())
    return pump_id in ids


def _source_key(pump_id: str) -> str | None:
    """Where a pump comes from: the story folder or an upload digest."""
    if _is_story(pump_id):
        return "story:" + str(STORY_DIR)
    for u in uploads():
        if pump_id in set(u["telemetry"].pump_ids()):
            return "upload:" + u["digest"]
    return None


def pump(pump_id: str | None) -> PumpTelemetry | None:
    if pump_id is None:
        return None
    key = _source_key(pump_id)
    if key is None:
        return None
    if key.startswith("story:"):
        return _story_pump(str(STORY_DIR), pump_id)
    upload = next(u for u in uploads() if "upload:" + u["digest"] == key)
    return upload["telemetry"].pump(pump_id)


def selected_pump() -> PumpTelemetry | None:
    """The pump chosen in the sidebar (None when nothing valid is selected)."""
    return pump(state.selected_pump_id())


# -- the pump's state as a case -----------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=256)
def _case(source_key: str, pump_id: str, sent_json: str | None, _pt: Callable[[], PumpTelemetry]) -> Case:
    case = _pt().case()
    if sent_json is None:
        return case
    sent = Program.model_validate_json(sent_json)
    return case.model_copy(update={"current": sent, "proposed": sent})


@st.cache_resource(show_spinner=False, max_entries=256)
def _evaluation(source_key: str, pump_id: str, sent_json: str | None, _case: Callable[[], Case]) -> Evaluation:
    return evaluate(_case())


def cache_keys(pump_id: str) -> tuple[str, str | None]:
    """Hashable keys of a pump's state: (source, sent program JSON or None)."""
    return _keys(pump_id)


def _keys(pump_id: str) -> tuple[str, str | None]:
    key = _source_key(pump_id)
    if key is None:
        raise KeyError(f"no pump {pump_id!r} in the loaded telemetry")
    sent = state.sent_program(pump_id)
    return key, None if sent is None else sent.model_dump_json()


def current_case(pump_id: str) -> Case:
    """``PumpTelemetry.case()``, with the program sent from the sandbox (if
    any) as both the current and the proposed program."""
    key, sent_json = _keys(pump_id)
    return _case(key, pump_id, sent_json, lambda: pump(pump_id))  # built only on a cache miss


def current_evaluation(pump_id: str) -> Evaluation:
    """``evaluate(current_case(pump_id))``, cached."""
    key, sent_json = _keys(pump_id)
    return _evaluation(key, pump_id, sent_json, lambda: _case(key, pump_id, sent_json, lambda: pump(pump_id)))
