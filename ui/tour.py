"""The guided-tour panel (tours are data: ``pumpmodel.tours``). The tour and its step live in
the address (``?tour=story-a&step=2``) next to the page and the pump, so a reload or a shared
link shows the same step on the same screen. Next / Back also answer the arrow keys."""
from __future__ import annotations

import streamlit as st

from pumpmodel import sharelink, tours
from ui import present, state

TOUR, STEP = "tour", "step"
_T, _S = "_tour", "_tour_step"


def active() -> tuple[tours.Tour, int] | None:
    """The running tour and its 0-based step (from the session, else the address)."""
    if _T not in st.session_state and st.query_params.get(TOUR):
        st.session_state[_T] = st.query_params.get(TOUR)
        try:
            st.session_state[_S] = int(st.query_params.get(STEP, "1")) - 1
        except ValueError:
            st.session_state[_S] = 0
    tour = tours.tours().get(st.session_state.get(_T) or "")
    if tour is None:
        return None
    step = min(max(0, int(st.session_state.get(_S, 0))), len(tour.steps) - 1)
    return tour, step


def step_params(tour: tours.Tour, i: int) -> dict[str, str]:
    """Every address parameter of step ``i``: pump, tour, step, the step's own, a prepared case,
    presentation mode and the workspace token when present."""
    s = tour.steps[i]
    q = {"pump": tour.pump, TOUR: tour.pump, STEP: str(i + 1), **s.params}
    case = s.case_dict()
    if case is not None:
        q["case"] = sharelink.encode(case)
    if present.on():
        q[present.PARAM] = "1"
    ws = st.query_params.get("ws")
    if ws:
        q["ws"] = ws
    return q


def go(tour: tours.Tour, i: int) -> None:
    st.session_state[_T], st.session_state[_S] = tour.pump, i
    state.select_pump(tour.pump)
    st.switch_page(f"pages/{tour.steps[i].page}.py", query_params=step_params(tour, i))


def end() -> None:
    for k in (_T, _S):
        st.session_state.pop(k, None)
    for k in (TOUR, STEP):
        st.query_params.pop(k, None)


def start_button(pump_id: str | None) -> None:
    """In the sidebar: start the selected story patient's tour."""
    tour = tours.tours().get(pump_id or "")
    if tour is not None and st.sidebar.button(f"Guided tour of this patient ({len(tour.steps)} steps)",
                                              key="tour_start", icon=":material/tour:", width="stretch"):
        go(tour, 0)


def panel(current_page: str) -> None:
    """The tour bar above the page: step n of N, what to look at, the teaching point, Back / Next."""
    now = active()
    if now is None:
        return
    tour, i = now
    s = tour.steps[i]
    if st.query_params.get(TOUR) != tour.pump or st.query_params.get(STEP) != str(i + 1):
        st.query_params[TOUR], st.query_params[STEP] = tour.pump, str(i + 1)  # after a page switch
    with st.container(border=True, key="tour_panel"):
        st.markdown(f"**Guided tour: {tour.title}** &nbsp; step {i + 1} of {len(tour.steps)}: **{s.title}**")
        st.markdown(f"**Look at:** {s.look_at}  \n**Teaching point:** {s.teaching_point}")
        c = st.columns([1, 1, 1, 2])
        if c[0].button("Back", key="tour_back", icon=":material/arrow_back:", disabled=i == 0, shortcut="Left",
                       width="stretch"):
            go(tour, i - 1)
        last = i == len(tour.steps) - 1
        if c[1].button("Finish" if last else "Next", key="tour_next", type="primary", shortcut="Right",
                       icon=":material/check:" if last else ":material/arrow_forward:", width="stretch"):
            if last:
                end()
                st.rerun()
            go(tour, i + 1)
        if c[2].button("End tour", key="tour_end", icon=":material/close:", width="stretch"):
            end()
            st.rerun()
        if current_page != s.page:
            if c[3].button("Back to this step's page", key="tour_here", width="stretch"):
                go(tour, i)
        else:
            c[3].caption("Keys: → next, ← back.")
