"""Keep every visit going through app.py's st.navigation router.

Streamlit still knows the old "pages/ directory" mode: on a fresh server, the first visit that
lands on a deep link (/quadratic) runs pages/quadratic.py on its own, without app.py (no wide
layout, no sidebar defaults, the wrong menu), until some run of app.py has called
st.navigation. A shared link to a sleeping hosted copy is exactly that first visit.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_router() -> None:
    """Called first by every page: if this run bypassed app.py, switch the mode off and rerun.

    The mode flag is global while a bypassed run is per session: when several first visits land
    at once, one of them switches the flag off while the others are already running the page on
    its own. So the test is per session too: app.py marks every session it has routed.
    """
    if PagesManager.uses_pages_directory or not st.session_state.get("_via_router"):
        PagesManager.uses_pages_directory = False
        st.rerun()
