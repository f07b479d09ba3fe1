"""Page: the model package group's versions with approval status and evaluation metrics."""

from __future__ import annotations

import altair as alt
import streamlit as st
from mlops_dashboard import registry
from mlops_dashboard.aws import AwsError
from mlops_dashboard.settings import load_settings

settings = load_settings()
st.header("Model registry")

group = settings.model_package_group
if not group:
    st.warning(
        "MODEL_PACKAGE_GROUP is not set, so there is no registry to show. The Dashboard "
        "component sets it to the pipeline's model package group."
    )
    st.stop()

top = st.columns([4, 1])
top[0].caption(
    f"Versions of model package group **{group}** in {settings.region}, newest first. "
    f"Read from SageMaker at most every {registry.REGISTRY_TTL_SECONDS} s."
)
if top[1].button("Refresh", icon=":material/refresh:", key="registry-refresh"):
    registry.load_versions.clear()

try:
    versions = registry.load_versions(settings.region, group)
except AwsError as exc:
    st.error(exc.message, icon=":material/error:")
    st.stop()

if not versions:
    st.info(
        f"Model package group **{group}** has no versions yet: the training pipeline registers "
        "one each time a model passes the quality gate."
    )
    st.stop()

table = registry.versions_table(versions)
latest = registry.latest_approved(versions)
pending = sum(v.approval_status == "PendingManualApproval" for v in versions)

cards = st.columns(4)
cards[0].metric("Versions", len(versions), border=True)
cards[1].metric("Latest approved", f"v{latest.version}" if latest else "none", border=True)
cards[2].metric(
    "Its AUC",
    f"{latest.metrics['auc']:.3f}" if latest and "auc" in latest.metrics else "—",
    border=True,
)
cards[3].metric("Waiting for approval", pending, border=True)

metric_columns = [c for c in table.columns if c not in ("Version", "Approval", "Status", "Created (UTC)")]
column_config = {
    "Version": st.column_config.NumberColumn("Version", format="v%d", width="small"),
    "Approval": st.column_config.TextColumn("Approval", help="Approved versions can be promoted to the endpoint."),
    "Created (UTC)": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
    **{c: st.column_config.NumberColumn(c, format="%.3f") for c in metric_columns},
}
st.dataframe(table, hide_index=True, column_config=column_config, key="registry-table")

if metric_columns:
    st.subheader("Evaluation metrics by version")
    long = table.melt(id_vars=["Version"], value_vars=metric_columns, var_name="Metric").dropna()
    long["Version"] = [f"v{v}" for v in long["Version"]]
    order = [f"v{v}" for v in sorted(table["Version"])]
    # Versions differ by hundredths: an axis from zero would flatten exactly what matters.
    chart = (
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=70))
        .encode(
            x=alt.X("Version:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", scale=alt.Scale(zero=False), title=None),
            color=alt.Color("Metric:N", sort=metric_columns),
            tooltip=["Version", "Metric", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(height=280)
    )
    st.altair_chart(chart)

problems = [v for v in versions if v.metrics_problem]
if problems:
    with st.expander(f"Metrics unavailable for {len(problems)} version(s)", icon=":material/warning:"):
        for v in problems:
            st.markdown(f"- **v{v.version}**: {v.metrics_problem}")
