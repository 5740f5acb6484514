"""Reference: the drug library and pump profiles, with the source of every limit."""
import streamlit as st

from pumpmodel import library
from ui.common import disclaimer

st.title("Drug library and pump profiles")
disclaimer()
st.markdown(
    "The training defaults every guardrail uses. Limits are read from `pumpmodel/data/*.yaml`, "
    "each with its source; values marked *assumed* are modelled for the simulator."
)
st.subheader("Drugs")
st.dataframe(library.drug_table(), hide_index=True, width="stretch")
st.subheader("Pump profiles")
st.dataframe(library.profile_table(), hide_index=True, width="stretch")
with st.expander("Drug-specific notes"):
    for d in library.drugs().values():
        if d.hazard_note:
            st.markdown(f"- **{d.name}**: {d.hazard_note}")
