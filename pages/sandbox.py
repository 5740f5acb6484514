"""Programming sandbox: edit a proposal, see live guardrails, review and send it to the simulated pump."""
import streamlit as st

from pumpmodel import library, sandbox
from ui import sandbox_editor, sandbox_results, sandbox_review
from ui import sandbox_state as S
from ui.boundary import fragment
from ui.common import disclaimer
from ui.safe_text import md
from ui.state import selected_pump_id

st.title("Programming sandbox")
disclaimer()
st.markdown("Change the program on the right-hand pump as you would on a clinician programmer: every edit is "
            "evaluated at once against the guardrails. The page address always holds the whole case (share it; "
            "a reload loses nothing).")


def start_bar() -> None:
    with st.expander(f"Start from ... (now: **{md(S.origin())}**)"):
        c1, c2, c3, c4 = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
        pid = selected_pump_id()
        c1.button(f"Current program of pump {pid}" if pid else "Selected pump (none selected: blank pump)",
                  on_click=S.start_from_pump, key="sbx_start_pump", icon=":material/sensors:")
        profile = c2.selectbox("New implant: pump profile", list(library.pump_profiles()), key="sbx_new_profile")
        drug = c3.selectbox("Drug", list(library.drugs()), index=list(library.drugs()).index("baclofen"),
                            key="sbx_new_drug")
        if c4.button("Blank pump", key="sbx_start_blank", icon=":material/add_circle:"):
            S.start_blank(profile, drug)
            st.rerun()
        st.page_link("pages/case_io.py", label="Prepared demo cases, paste or upload a case JSON",
                     icon=":material/upload_file:")


@fragment  # st.fragment inside the error boundary (ui/boundary.py)
def workbench() -> None:
    left, right = st.columns([5, 6], gap="large")
    with left:
        st.subheader("Proposed program")
        data = sandbox_editor.editor()
    S.sync_out(data)
    case, errors = S.validate(data)
    load_problems = st.session_state.get("sbx_load_problems")
    with right:
        if load_problems and case is not None and st.session_state.get("sbx_gen_loaded") == S.gen():
            sandbox_results.problems(load_problems, "The shared case had problems; the sandbox shows what it "
                                                    "could keep:")
        if errors:
            sandbox_results.problems(errors, "Not a valid program yet: fix these fields (your input is kept)")
            return
        ev, cur = sandbox_results.evaluations(case)
        st.subheader("Current vs proposed")
        sandbox_results.comparison(case, ev, cur)
        if case.proposed.mode == "flex":  # lazy expander: the table is built and sent only while open
            box = st.expander("Steps as rate and dose", key="sbx_rates_box", on_change="rerun")
            if box.open:
                box.dataframe(sandbox_editor.rates_table(case), hide_index=True, width="stretch")
    sandbox_results.charts(case, ev, cur)
    sandbox_results.explanations(ev)
    sandbox_results.guardrails(ev)
    st.subheader("Review and send")
    sandbox_review.review_table(case, ev, cur)
    sandbox_review.send_panel(case, ev)
    st.subheader("Share and report")
    sandbox_review.share_and_report(case, ev, cur)


S.sync_in()
start_bar()
workbench()
