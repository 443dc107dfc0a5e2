"""Load test of the app over Streamlit's own websocket protocol (see loadtest/run.py)."""
