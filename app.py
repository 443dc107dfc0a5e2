"""Edge of Stability Explorer: the entry point, a router over the pages in pages/."""

import streamlit as st

import ui.runtime  # noqa: F401  (one BLAS thread for the whole server)
from ui import controls, turns

PAGES = [
    st.Page("pages/home.py", title="Home: why η < 2/λ_max", icon=":material/home:", default=True, url_path="home"),
    st.Page(
        "pages/quadratic.py", title="Quadratic explorer", icon=":material/stacked_line_chart:", url_path="quadratic"
    ),
    st.Page("pages/trajectory.py", title="Trajectory (2-D)", icon=":material/timeline:", url_path="trajectory"),
    st.Page("pages/momentum.py", title="Momentum map", icon=":material/grid_on:", url_path="momentum"),
    st.Page("pages/eos.py", title="Edge of Stability (network)", icon=":material/neurology:", url_path="eos"),
    st.Page("pages/toy.py", title="2-D toy: EoS in two parameters", icon=":material/scatter_plot:", url_path="toy"),
]
# One run at a time in this process, first come first served (ui/turns.py).
with turns.turn():
    st.set_page_config(
        page_title="Edge of Stability Explorer",
        page_icon=":material/ssid_chart:",
        layout="wide",
        initial_sidebar_state="collapsed" if st.query_params.get("present") in ("true", "1") else "auto",
    )

    st.session_state["_via_router"] = True  # see ui/routing.py
    page = st.navigation(PAGES)
    if st.session_state.get("_page") != page.url_path:  # a page switch (or a session's first run)
        st.session_state["_page"] = page.url_path
        controls.carry_to_new_page()

    # Presentation mode (?present=true): big chart text, thick lines, for a projector.
    if controls.toggle("presentation mode (big text)", "present", container=st.sidebar):
        # Static CSS written here, never user text: bigger page text for the back of the room.
        st.markdown("<style>html { font-size: 20px; }</style>", unsafe_allow_html=True)
    page.run()
