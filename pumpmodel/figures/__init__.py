"""Plain functions that build Plotly figures (no Streamlit): testable without a browser."""
