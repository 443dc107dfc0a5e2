"""Keep every visit going through app.py's st.navigation router.

Streamlit still knows the old "pages/ directory" mode: on a fresh server, the first visit that
lands on a deep link (/quadratic) runs pages/quadratic.py on its own, without app.py (no wide
layout, no sidebar defaults, the wrong menu), until some run of app.py has called
st.navigation. A shared link to a sleeping hosted copy is exactly that first visit.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_app_router() -> None:
    """Called first by every page: if this run bypassed app.py, switch the mode off and rerun."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
