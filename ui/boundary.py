"""The error boundary around every page (``dashboard.py``) and every fragment.

An exception no page foresaw shows a short message with an error id; the
traceback goes to the server log (logger ``pumptrainer``) under the same id,
never to the browser (``client.showErrorDetails = "none"`` in
``.streamlit/config.toml`` hides whatever might still escape). Streamlit's own
control flow (``st.stop``, ``st.rerun``, ``st.switch_page``) derives from
``BaseException`` and passes through untouched.
"""
from __future__ import annotations

import functools
import logging
import uuid
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("pumptrainer")
MESSAGE = ("Something went wrong while drawing this part of the page (error id {id}). Nothing you entered was "
           "lost: change the input, pick another pump or reload the page. If it happens again, report the error id.")


@contextmanager
def error_boundary(where: str = "page"):
    try:
        yield
    except Exception:  # noqa: BLE001  (the boundary: everything the page did not handle)
        error_id = uuid.uuid4().hex[:8]
        log.exception("error id %s in %s", error_id, where)
        st.error(MESSAGE.format(id=f"`{error_id}`"), icon=":material/error:")


def fragment(fn=None, **kwargs):
    """``st.fragment`` with the error boundary inside (a fragment rerun does not pass through dashboard.py)."""
    def wrap(f):
        @functools.wraps(f)
        def guarded(*a, **kw):
            with error_boundary(f"fragment {f.__name__}"):
                return f(*a, **kw)
        return st.fragment(guarded, **kwargs)
    return wrap(fn) if fn is not None else wrap
