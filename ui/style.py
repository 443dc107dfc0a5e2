"""Page-wide display settings read by every page."""

import streamlit as st


def presenting() -> bool:
    """Presentation mode: chart text ≥ 18 px and thicker lines (set in app.py's sidebar)."""
    return bool(st.session_state.get("present", False))
