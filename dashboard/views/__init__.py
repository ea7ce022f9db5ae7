"""The dashboard's pages: each a script Streamlit runs (and a module with ``render()``)."""
