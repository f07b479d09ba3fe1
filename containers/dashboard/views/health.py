"""Page: endpoint status, its traffic, latency and errors over the last hours, and the drift alarm.

Each section reads its own data and reports its own failure, so a missing permission for one
(say cloudwatch:GetMetricData) still leaves the others on the page.
"""

from __future__ import annotations

import streamlit as st
from mlops_dashboard import health
from mlops_dashboard.aws import AwsError
from mlops_dashboard.settings import load_settings

settings = load_settings()
st.header("Live health")

top = st.columns([4, 1])
hours = top[0].segmented_control(
    "Window",
    options=health.WINDOW_HOURS,
    default=3,
    required=True,
    format_func=lambda h: f"last {h} h",
    key="health-window",
)
if top[1].button("Refresh", icon=":material/refresh:", key="health-refresh"):
    health.endpoint_status.clear()
    health.endpoint_metrics.clear()
    health.alarm_state.clear()

# --- Endpoint ---------------------------------------------------------------------------------
st.subheader("Endpoint")
endpoint = settings.endpoint_name
status: health.EndpointStatus | None = None
if not endpoint:
    st.info(
        "ENDPOINT_NAME is not set: this stack has no endpoint yet (no model package version is pinned in endpoint.modelPackageVersion)."
    )
else:
    try:
        status = health.endpoint_status(settings.region, endpoint)
    except AwsError as exc:
        st.error(exc.message, icon=":material/error:")

if status is not None:
    cards = st.columns(3)
    cards[0].metric("Status", status.status, border=True)
    cards[1].metric("Variants", len(status.variants), border=True)
    instances = [v.current_instances for v in status.variants if v.current_instances is not None]
    serverless = any(v.serverless for v in status.variants)
    cards[2].metric("Instances", "serverless" if serverless and not instances else sum(instances), border=True)
    if status.failure_reason:
        st.error(f"Endpoint {status.name} reports a failure: {status.failure_reason}")
    elif status.status not in ("InService",):
        st.warning(f"Endpoint {status.name} is {status.status}.")
    if status.variants:
        shares = health.traffic_shares(status.variants)
        st.dataframe(
            [
                {
                    "Variant": v.name,
                    "Current instances": v.current_instances,
                    "Desired instances": v.desired_instances,
                    "Traffic share": shares[v.name],
                    "Serverless": v.serverless,
                }
                for v in status.variants
            ],
            hide_index=True,
            key="health-variants",
        )

# --- Metrics ----------------------------------------------------------------------------------
if endpoint:
    st.subheader(f"Traffic over the last {hours} h")
    names = status.variant_names if status is not None else (health.DEFAULT_VARIANT,)
    variant = st.selectbox("Variant", names, key="health-variant") if len(names) > 1 else names[0]
    try:
        frame = health.endpoint_metrics(settings.region, endpoint, variant, hours)
    except AwsError as exc:
        st.error(exc.message, icon=":material/error:")
    else:
        if frame.dropna(how="all").empty:
            st.info(f"CloudWatch has no datapoints for variant {variant} in the last {hours} h: the endpoint had no traffic.")
        else:
            summary = health.summarize(frame)
            cards = st.columns(4)
            for card, (label, value) in zip(cards, summary.items(), strict=True):
                if value is None:
                    shown = "—"
                elif label.endswith("(ms)"):
                    shown = f"{value:,.1f}"
                else:
                    shown = f"{value:,.0f}"
                card.metric(label, shown, border=True)
            # Errors get their own chart: next to hundreds of invocations a burst of 5XX is flat.
            charts = st.columns(3)
            charts[0].caption("Invocations per period")
            charts[0].line_chart(frame[["Invocations"]], height=240)
            charts[1].caption("Errors per period")
            charts[1].line_chart(frame[["4XX errors", "5XX errors"]], height=240)
            charts[2].caption("Model latency (ms)")
            charts[2].line_chart(frame[list(health.LATENCY_COLUMNS)], height=240)
            st.caption(
                f"Period: {health.period_for(hours) // 60} min · {health.NAMESPACE} metrics of "
                f"EndpointName={endpoint}, VariantName={variant} · read at most every "
                f"{health.HEALTH_TTL_SECONDS} s."
            )

# --- Drift --------------------------------------------------------------------------------------
st.subheader("Data drift")
alarm_name = settings.drift_alarm_name
if not alarm_name:
    st.info("DRIFT_ALARM_NAME is not set: this stack has no drift alarm.")
else:
    try:
        alarm = health.alarm_state(settings.region, alarm_name)
    except AwsError as exc:
        st.error(exc.message, icon=":material/error:")
    else:
        if alarm is None:
            st.warning(f"CloudWatch has no alarm named **{alarm_name}** in {settings.region}.")
        else:
            since = f" since {alarm.updated:%Y-%m-%d %H:%M} UTC" if alarm.updated else ""
            reason = f"\n\n{alarm.reason}" if alarm.reason else ""
            if alarm.state == "ALARM":
                st.error(
                    f"**Drift detected** — alarm {alarm.name} is in ALARM{since}. Retraining starts automatically.{reason}",
                    icon=":material/warning:",
                )
            elif alarm.state == "OK":
                st.success(f"No drift — alarm {alarm.name} is OK{since}.{reason}")
            else:
                st.info(
                    f"Alarm {alarm.name} has not enough data yet ({alarm.state}){since}: Model "
                    f"Monitor has not produced a drift metric.{reason}"
                )
