"""Training pages' state: the workspace (``?ws=``, ``ui.workspace``), the progress store, the name.

Progress lives in the workspace store (``pumpmodel.training.progress_sql``), never
only in ``st.session_state``: a reload or another server finds it again. Widget values
are only the editor's scratch space; each change of the draft is saved to the store.
"""
from __future__ import annotations

import streamlit as st

from pumpmodel.store import Workspace
from pumpmodel.training.progress import TrainingStore
from ui import workspace


def current() -> Workspace:
    """This browser's workspace (its token is kept in the address as ``?ws=``)."""
    return workspace.current()


@st.cache_resource(show_spinner=False)
def _store(url: str) -> TrainingStore:
    from pumpmodel.store import get_store
    from pumpmodel.training.progress_sql import SqlTrainingStore

    return SqlTrainingStore(get_store(url))


def store() -> TrainingStore:
    """The progress store: a handle on the workspace database (the same for every session; no user data)."""
    from pumpmodel.store.db import database_url

    return _store(database_url())


def trainee_name(ws: Workspace) -> str | None:
    return store().display_name(ws)
