"""Reference: the drug library and pump profiles, with the source of every limit."""
import streamlit as st

from pumpmodel import library
from pumpmodel.units import text_frame
from ui.common import disclaimer, static_table

st.title("Drug library and pump profiles")
disclaimer()
st.markdown(
    "The training defaults every guardrail uses. Limits are read from `pumpmodel/data/*.yaml`, "
    "each with its source; values marked *assumed* are modelled for the simulator."
)
# static tables: every cell wraps, nothing is cut off (interactive grids truncated the long
# "supplied" and "source" texts); on a phone the table scrolls sideways
st.subheader("Drugs")
static_table(text_frame(library.drug_table()), "Drugs")
st.subheader("Pump profiles")
static_table(text_frame(library.profile_table()), "Pump profiles")
with st.expander("Drug-specific notes"):
    for d in library.drugs().values():
        if d.hazard_note:
            st.markdown(f"- **{d.name}**: {d.hazard_note}")
