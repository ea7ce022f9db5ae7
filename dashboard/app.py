"""The dashboard's entry script (``streamlit run dashboard/app.py``; ``segments dashboard``).

Reads the API's address and key from ``SEG_DASHBOARD_API_URL`` and
``SEG_DASHBOARD_API_KEY`` (the command sets them). Each page is a script of
:mod:`dashboard.views`, at its own address (``/explore``, ``/what-if``, ...).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import ui

VIEWS = Path(__file__).resolve().parent / "views"
PAGES = (
    ("overview.py", "Overview", "overview", ":material/dashboard:"),
    ("explore.py", "Explore", "explore", ":material/scatter_plot:"),
    ("whatif.py", "What-if", "what-if", ":material/person_search:"),
    ("batch.py", "Batch", "batch", ":material/upload_file:"),
    ("operations.py", "Monitoring", "monitoring", ":material/monitoring:"),
)


def main() -> None:
    st.set_page_config(page_title="Customer segments", page_icon=":material/groups:", layout="wide")
    pages = [
        st.Page(VIEWS / script, title=title, url_path=path, icon=icon, default=i == 0)
        for i, (script, title, path, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    connection = ui.connection()
    st.sidebar.caption(f"API: {connection.url}")
    page.run()


if __name__ == "__main__":
    main()
