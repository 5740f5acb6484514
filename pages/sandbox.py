"""Programming sandbox: edit a proposal, see live guardrails, review and send it to the simulated pump."""
import streamlit as st

from pumpmodel import library
from ui import sandbox_editor, sandbox_results, sandbox_review
from ui import sandbox_state as S
from ui.boundary import fragment
from ui.common import disclaimer
from ui.safe_text import md
from ui.state import selected_pump_id

st.title("Programming sandbox")
disclaimer()
st.markdown("Change the proposed program on the left as you would on a clinician programmer: every edit is "
            "evaluated at once against the guardrails. Your draft, what you send, acknowledgements and the "
            "override log are kept in this workspace (the address holds its key: a reload or a second tab finds "
            "them again).")


def start_bar() -> None:
    with st.expander(f"Start from ... (now: **{md(S.origin())}**)"):
        row = st.container(horizontal=True, vertical_alignment="bottom")
        pid = selected_pump_id()
        row.button(f"Current program of pump {pid}" if pid else "Selected pump (none selected: blank pump)",
                   on_click=S.start_from_pump, key="sbx_start_pump", icon=":material/sensors:")
        profile = row.selectbox("New implant: pump profile", list(library.pump_profiles()), key="sbx_new_profile")
        drugs = list(library.drugs())
        drug = row.selectbox("Drug", drugs, index=drugs.index("baclofen"), key="sbx_new_drug")
        row.button("Blank pump", key="sbx_start_blank", icon=":material/add_circle:", on_click=S.start_blank,
                   args=(profile, drug))
        row = st.container(horizontal=True, vertical_alignment="bottom")
        row.text_input("Share link (or its case= part)", key="sbx_link_in", placeholder="http://.../sandbox?case=...")
        row.button("Open link", key="sbx_start_link", icon=":material/link:", on_click=S.start_from_pasted_link)
        st.page_link("pages/case_io.py", label="Prepared demo cases, paste or upload a case JSON",
                     icon=":material/upload_file:")


def draft_bar() -> None:
    undo, redo = S.can_undo_redo()
    row = st.container(horizontal=True)
    row.button("Undo", key="sbx_undo", on_click=S.undo, disabled=not undo, icon=":material/undo:",
               help="Undo the last change of the draft (an edit, a start-from, a discard, a send)")
    row.button("Redo", key="sbx_redo", on_click=S.redo, disabled=not redo, icon=":material/redo:")
    row.button("Discard changes", key="sbx_discard", on_click=S.discard, icon=":material/delete_sweep:",
               help="Back to the case as it was loaded (Undo brings your edits back)")


@fragment  # st.fragment inside the error boundary (ui/boundary.py)
def workbench() -> None:
    full = st.session_state.pop("sbx_full_run", False)  # False: a rerun of this fragment alone
    if st.session_state.pop("sbx_app_rerun", False) and not full:
        st.rerun()  # another case (undo across a start-from): the start bar above shows its origin
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.subheader("Proposed program")
        draft_bar()
        data = sandbox_editor.editor()
    S.sync_out(data)
    if st.session_state.pop("sbx_resort", None) is not None:
        S.reseed(data, label="sort steps")  # a step added out of order: the table is drawn again, sorted
        st.rerun(scope="app" if full else "fragment")
    case, errors = S.validate(data)
    fields = sandbox_editor.problems()
    if fields:
        case = None
    with right:
        load_problems = st.session_state.get("sbx_load_problems")
        if load_problems and st.session_state.get("sbx_gen_loaded") == S.gen():
            sandbox_results.problems(load_problems, "The loaded case had problems; the sandbox shows what it "
                                                    "could keep:")
        if errors or fields:
            sandbox_results.problems(errors, "Not a valid program yet: fix these fields (your input is kept)",
                                     fields)
            case = S.last_valid()
            if case is None:
                return
            st.caption(":orange[**Stale**: the figures below are of the last valid program, until the fields "
                       "above are fixed.]")
        else:
            S.keep_valid(case)
        ev, cur = sandbox_results.evaluations(case)
        st.subheader("Current vs proposed")
        sandbox_results.comparison(case, ev, cur)
        if case.proposed.mode == "flex":  # lazy expander: the table is built and sent only while open
            box = st.expander("Steps as rate and dose", key="sbx_rates_box", on_change="rerun")
            if box.open:
                box.dataframe(sandbox_editor.rates_table(case), hide_index=True, width="stretch")
    sandbox_results.charts(case, ev, cur)
    sandbox_results.explanations(ev)
    acks = sandbox_results.guardrails(ev)
    st.subheader("Review and send")
    sandbox_review.review_table(case, ev, cur)
    if errors or fields:
        st.warning("Fix the fields marked above before sending.", icon=":material/edit:")
    else:
        sandbox_review.send_panel(case, ev, acks)
    # lazy: the link, the case JSON and the report are built and sent only while this is open
    box = st.expander("Share and report: link, case JSON, session report (PDF)", key="sbx_share_box",
                      on_change="rerun", icon=":material/share:")
    if box.open:
        with box:
            sandbox_review.share_and_report(case, ev, cur)


S.sync_in()
if S.target() != selected_pump_id():  # the sidebar's pump is not what the sandbox shows
    st.sidebar.info(f"The sandbox shows: **{md(S.origin())}**; *Send* goes to the simulated pump `{S.pump_id()}`.",
                    icon=":material/tune:")
st.session_state["sbx_full_run"] = True
st.session_state.pop("sbx_app_rerun", None)
start_bar()
workbench()
