"""The Streamlit dashboard: a client of the scoring API (``segments dashboard``)."""
