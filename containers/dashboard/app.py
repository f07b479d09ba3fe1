"""Entry point (`streamlit run app.py`): the frame around every page — title, settings, navigation.

The pages live in views/; each reads the same environment (mlops_dashboard.settings). AWS failures
are handled inside the pages, section by section; the last line of defence below turns anything
unexpected into a message too (the traceback goes to the logs, not to the business user).
"""

from __future__ import annotations

import logging

import streamlit as st
from mlops_dashboard.settings import SettingsError, load_settings

TITLE = "Churn model · MLOps dashboard"

log = logging.getLogger("mlops_dashboard")

st.set_page_config(page_title=TITLE, page_icon=":material/monitoring:", layout="wide")

registry = st.Page("views/registry.py", title="Model registry", icon=":material/inventory_2:", url_path="registry")
# Streamlit serves its default page at "/" only and ignores that page's url_path, so a default
# registry page would leave its deep link /registry on "Page not found". The root URL is a hidden
# page that opens the registry under its own address instead.
home = st.Page(lambda: st.switch_page(registry), title="Home", url_path="home", default=True, visibility="hidden")
page = st.navigation(
    [
        home,
        registry,
        st.Page("views/health.py", title="Live health", icon=":material/monitor_heart:", url_path="health"),
        st.Page("views/predict.py", title="Predict churn", icon=":material/online_prediction:", url_path="predict"),
    ]
)
if page is home:
    st.switch_page(registry)  # before anything is drawn: the registry's run draws the frame

st.title(TITLE)

try:
    settings = load_settings()
except SettingsError as exc:
    problems = "\n".join(f"- {line}" for line in str(exc).splitlines())
    st.error(f"The dashboard is misconfigured; fix these environment variables:\n{problems}")
    st.stop()

if settings.banner:
    st.warning(settings.banner, icon=":material/science:")

with st.sidebar:
    st.caption("Connected to")
    lines = [f"Region: `{settings.region}`"]
    lines.append(f"Model package group: `{settings.model_package_group or 'not set'}`")
    lines.append(f"Endpoint: `{settings.endpoint_name or 'not set'}`")
    lines.append(f"Drift alarm: `{settings.drift_alarm_name or 'not set'}`")
    lines.append(f"Predictions via: `{settings.prediction_backend}`")
    if settings.aws_endpoint_url:
        # Say plainly when the data is not coming from AWS itself (the local demo, a test).
        lines.append(f"AWS calls go to `{settings.aws_endpoint_url}`, not to AWS")
    st.markdown("  \n".join(lines))

try:
    page.run()
except Exception:
    # Streamlit's own control flow (st.stop, reruns) is not an Exception subclass and passes.
    log.exception("unexpected error while rendering page %s", page.title)
    st.error("Something unexpected went wrong on this page. The details are in the dashboard's logs; refreshing the page may help.")
