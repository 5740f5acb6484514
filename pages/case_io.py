"""Cases in and out: prepared demo cases for presenters, paste or upload a case JSON, download the current one."""
import json

import streamlit as st

from pumpmodel import sandbox, sharelink
from ui import sandbox_results
from ui.common import disclaimer
from ui.safe_text import md

st.title("Cases: demos, import and export")
disclaimer()


def open_in_sandbox(data: dict, origin: str) -> None:
    st.session_state["sbx_pending"] = {"data": data, "origin": origin}
    st.switch_page("pages/sandbox.py")


st.subheader("Prepared demo cases")
st.markdown("Each link opens the sandbox on a prepared case (`?case=` share link); the codes are every finding the "
            "engine gives for it, as the sandbox shows them. Open in a new tab to keep this list.")


@st.cache_data(show_spinner=False)
def demo_codes(file: str) -> list[tuple[str, str]]:
    return sandbox.demo_codes(file)


rows = ["| case (file) | shows |", "|---|---|"]  # a markdown table wraps: nothing is clipped; 2 columns fit a phone
for file, (title, _built_for) in sandbox.DEMO_CASES.items():
    link = sharelink.link("sandbox", sandbox.demo_case(file))
    shows = ", ".join(f"{sev.upper()} `{code}`" for sev, code in demo_codes(file))
    rows.append(f"| [{title}]({link}) :small[`examples/{file}`] | {shows} |")
st.markdown("\n".join(rows))

st.subheader("Paste or upload a case JSON")
st.caption("Spec format: see `shared/spec/evaluate.md` and `examples/spec_example.json`.")
c1, c2 = st.columns(2)
text = c1.text_area("Case JSON", height=220, key="io_text", placeholder='{"pump": {"profile": "programmable-40"}, ...}')
upload = c2.file_uploader("... or upload a .json file", type=["json"], key="io_upload", max_upload_size=1)
source, raw = None, None
if upload is not None:
    source, raw = f"uploaded file {upload.name}", upload.getvalue()
elif text.strip():
    source, raw = "pasted JSON", text.encode("utf-8")
if raw is not None:
    try:
        data = sharelink.parse_json(sharelink.decode_text(raw))
        case = sharelink.to_case(data)
    except sharelink.ShareLinkError as exc:
        sandbox_results.problems(exc.errors, f"{exc} Nothing was loaded.")
    else:
        ev, _ = sandbox_results.evaluations(case)
        st.success(f"Valid case from {md(source)}: {len(ev.warnings)} finding(s): "
                   + (", ".join(f"`{c}`" for c in ev.codes()) or "none"), icon=":material/check:")
        if st.button("Open in the sandbox", type="primary", key="io_open", icon=":material/tune:"):
            open_in_sandbox(data, source)

st.subheader("Download the sandbox's current case")
draft = st.session_state.get("sbx_draft")
if draft is None:
    st.info("Open the sandbox first: its current case appears here.")
else:
    st.download_button("Download current case JSON", json.dumps(draft, indent=2), file_name="case.json",
                       mime="application/json", key="io_dl", icon=":material/download:", on_click="ignore")
    st.code(sharelink.link("sandbox", draft), language=None, wrap_lines=True)
