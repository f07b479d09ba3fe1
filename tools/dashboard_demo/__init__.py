"""The dashboard demo (`python -m tools.dashboard_demo`, what `make dashboard` runs): the Streamlit app on moto-backed data."""
