"""Page: a form for one customer; shows the model's churn probability.

Answers are validated before anything is sent: a bad answer gets a message next to the form and
no request leaves the dashboard.
"""

from __future__ import annotations

import streamlit as st
from mlops_dashboard import features
from mlops_dashboard.features import ChoiceField
from mlops_dashboard.prediction import PredictionError, predict_via_api, predict_via_endpoint
from mlops_dashboard.settings import load_settings

# At or above this probability the page calls the customer likely to churn.
RISK_THRESHOLD = 0.5

settings = load_settings()
st.header("Predict churn")

if settings.prediction_backend == "api":
    if not settings.api_url:
        st.error("PREDICTION_BACKEND is api but API_URL is not set: there is no API to call.")
        st.stop()
    st.caption(
        f"Predictions come from the canary API `{settings.api_url}/predict` — the same path "
        "client applications use" + (", signed with the task role (IAM)." if settings.api_auth == "iam" else ".")
    )
else:
    if not settings.endpoint_name:
        st.error("PREDICTION_BACKEND is endpoint but ENDPOINT_NAME is not set: there is no endpoint to call.")
        st.stop()
    st.caption(f"Predictions come straight from SageMaker endpoint `{settings.endpoint_name}`.")

try:
    spec = features.form_spec_for(settings.feature_names)
except ValueError as exc:
    st.error(f"The prediction form cannot be built: {exc}.")
    st.stop()

if spec.fallback_reason:
    st.caption(f"One input per model feature, in model order ({spec.fallback_reason}).")

answers: dict[str, float | str | None] = {}
with st.form("prediction-form"):
    columns = st.columns(2)
    for position, field in enumerate(spec.fields):
        with columns[position % 2]:
            key = f"field-{field.name}"
            if isinstance(field, ChoiceField):
                answers[field.name] = st.selectbox(field.label, field.options, index=field.options.index(field.default), key=key)
            elif field.integer:
                answers[field.name] = st.number_input(
                    field.label,
                    value=None if field.default is None else int(field.default),
                    step=1,
                    help=field.help,
                    key=key,
                )
            else:
                answers[field.name] = st.number_input(field.label, value=field.default, step=1.0, help=field.help, key=key)
    submitted = st.form_submit_button("Predict churn", type="primary", icon=":material/send:")

if submitted:
    problems = features.validate(spec, answers)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        st.error(f"Please correct the form; nothing was sent to the model.\n{listed}")
    else:
        row = spec.encode({k: v for k, v in answers.items() if v is not None})
        try:
            with st.spinner("Asking the model…"):
                if settings.prediction_backend == "api":
                    assert settings.api_url is not None  # checked above
                    prediction = predict_via_api(settings.api_url, row, settings.api_auth, settings.region)
                else:
                    assert settings.endpoint_name is not None  # checked above
                    prediction = predict_via_endpoint(settings.endpoint_name, row, settings.region)
        except PredictionError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            probability = prediction.probability
            verdict = "likely to churn" if probability >= RISK_THRESHOLD else "likely to stay"
            cards = st.columns([1, 2])
            cards[0].metric("Churn probability", f"{probability:.1%}", border=True)
            with cards[1]:
                st.progress(probability, text=f"This customer is **{verdict}**.")
                version = f", model version {prediction.model_version}" if prediction.model_version else ""
                st.caption(f"Answered by the {prediction.source}{version}.")
            with st.expander("Features sent to the model"):
                st.dataframe(
                    {"Feature": list(spec.feature_names), "Value": row},
                    hide_index=True,
                    key="predict-features",
                )
