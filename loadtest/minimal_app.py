"""Streamlit's floor for the load test: one slider and one Altair line chart of a few hundred points.

No pages, no caching, nothing of the app: what any Streamlit rerun costs on this machine.
loadtest/run.py serves it with `streamlit run` next to app.py and drives it the same way.
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

freq = st.slider("frequency", 0.5, 10.0, 1.0, step=0.1, key="freq")
x = np.linspace(0.0, 2 * np.pi, 400)
frame = pd.DataFrame({"x": x, "y": np.sin(freq * x)})
st.altair_chart(alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q"), width="stretch")
