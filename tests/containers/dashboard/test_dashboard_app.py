"""The Streamlit app driven by AppTest against in-process moto and a local stub of the canary API.

Each page is rendered with the environment the ECS task gets; AWS failures must come out as
readable messages (no exception element, the message says what failed and why).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.stub import Stubber
from streamlit.testing.v1 import AppTest

from tools.dashboard_demo.cli import (
    DEMO_VERSIONS,
    DemoNames,
    StubPredictionApi,
    seed_alarm,
    seed_endpoint,
    seed_registry,
    stub_probability,
)

pytestmark = pytest.mark.usefixtures("aws", "app_env")

TITLE = "Churn model · MLOps dashboard"
APP = Path(__file__).resolve().parents[3] / "containers" / "dashboard" / "app.py"


def run_app(page: str | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30)
    if page is not None:
        # Before the first run AppTest finds a page by its file name; the pages' url_paths are
        # their file names, so this opens the page directly, as a browser at /health would.
        app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def metric(app: AppTest, label: str) -> str:
    values = {m.label: m.value for m in app.metric}
    assert label in values, f"no metric {label!r} among {sorted(values)}"
    return values[label]


# --- registry ---------------------------------------------------------------------------------------


def test_registry_page_lists_every_version_with_status_and_metrics(names: DemoNames) -> None:
    seed_registry(None, names)

    app = run_app()

    assert texts(app.title) == [TITLE]
    assert not app.error
    table = app.dataframe[0].value
    assert list(table["Version"]) == [3, 2, 1]
    assert list(table["Approval"]) == [v.approval for v in reversed(DEMO_VERSIONS)]
    assert list(table["AUC"]) == pytest.approx([v.metrics["auc"] for v in reversed(DEMO_VERSIONS)])
    assert list(table["Recall"]) == pytest.approx([v.metrics["recall"] for v in reversed(DEMO_VERSIONS)])
    # Creation times come from the registry (the demo backdates them), newest first.
    assert table["Created (UTC)"].is_monotonic_decreasing
    assert metric(app, "Latest approved") == "v1"
    assert metric(app, "Its AUC") == "0.812"
    assert metric(app, "Waiting for approval") == "1"


def test_the_registry_has_its_own_url_and_the_root_url_opens_it(names: DemoNames) -> None:
    seed_registry(None, names)

    app = run_app()  # the root URL

    # A browser at /registry asks Streamlit for the page whose url_pathname is "registry" (the
    # default page's is "", whatever its url_path says): that must be the registry's script.
    by_url = {info["url_pathname"]: info for info in app._registered_pages.values()}
    assert Path(by_url["registry"]["script_path"]).name == "registry.py"
    assert {"registry", "health", "predict"} <= set(by_url)
    # "/" lands on the registry (the hidden root page hands over before drawing anything).
    assert texts(app.title) == [TITLE]
    assert list(app.dataframe[0].value["Version"]) == [3, 2, 1]


def test_a_version_without_a_readable_report_still_appears_with_the_reason(
    names: DemoNames,
) -> None:
    seed_registry(None, names)
    boto3.client("s3").delete_object(Bucket=names.bucket, Key="evaluation/v2/evaluation.json")

    app = run_app()

    table = app.dataframe[0].value
    assert list(table["Version"]) == [3, 2, 1]
    assert table.loc[table["Version"] == 2, "AUC"].isna().all()
    notes = " ".join(texts(app.markdown))
    assert "v2" in notes and "evaluation/v2/evaluation.json" in notes and "does not exist" in notes


def test_an_empty_group_is_explained(names: DemoNames) -> None:
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=names.group)

    app = run_app()

    assert not app.dataframe
    assert any("has no versions yet" in t for t in texts(app.info))


def test_access_denied_becomes_a_readable_message() -> None:
    from mlops_dashboard import aws

    # The page uses this very client (cached per process); make it answer as IAM would.
    sagemaker = aws.client("sagemaker", "us-east-1")
    with Stubber(sagemaker) as stubber:
        stubber.add_client_error(
            "list_model_packages",
            service_error_code="AccessDeniedException",
            service_message=(
                "User: arn:aws:sts::123456789012:assumed-role/dashboard-task/abc is not authorized to perform: sagemaker:ListModelPackages"
            ),
            http_status_code=400,
        )
        app = run_app()

    errors = texts(app.error)
    assert len(errors) == 1
    assert errors[0].startswith(f"Could not list the versions of model package group '{os.environ['MODEL_PACKAGE_GROUP']}'")
    assert os.environ["MODEL_PACKAGE_GROUP"].endswith(":model-package-group/churn-demo")
    assert "access denied" in errors[0]
    assert "sagemaker:ListModelPackages" in errors[0]
    assert "Traceback" not in errors[0]


def test_without_a_group_name_the_page_says_what_is_missing(app_env: pytest.MonkeyPatch) -> None:
    app_env.delenv("MODEL_PACKAGE_GROUP")

    app = run_app()

    assert any("MODEL_PACKAGE_GROUP is not set" in t for t in texts(app.warning))


def test_malformed_configuration_is_listed_not_raised(app_env: pytest.MonkeyPatch) -> None:
    app_env.setenv("PREDICTION_BACKEND", "lambda")
    app_env.setenv("API_URL", "ftp://example")

    app = run_app()

    (message,) = texts(app.error)
    assert "PREDICTION_BACKEND='lambda' is not allowed: use one of api, endpoint" in message
    assert "API_URL='ftp://example' must start with https://" in message


# --- health --------------------------------------------------------------------------------------------


def put_traffic(names: DemoNames, variant: str = "AllTraffic") -> None:
    """Known datapoints inside the last hour: three periods of traffic and latency samples."""
    now = datetime.now(UTC)
    dimensions = [
        {"Name": "EndpointName", "Value": names.endpoint},
        {"Name": "VariantName", "Value": variant},
    ]
    data = []
    for minutes_ago, invocations, errors5xx in ((50, 100, 0), (30, 200, 3), (10, 300, 1)):
        stamp = now - timedelta(minutes=minutes_ago)
        for name, value in (
            ("Invocations", invocations),
            ("Invocation4XXErrors", 2),
            ("Invocation5XXErrors", errors5xx),
        ):
            data.append({"MetricName": name, "Dimensions": dimensions, "Timestamp": stamp, "Value": value})
        # 1..100 ms in microseconds: p99 of the period is 99.01 ms.
        data.append(
            {
                "MetricName": "ModelLatency",
                "Dimensions": dimensions,
                "Timestamp": stamp,
                "Values": [float(ms * 1000) for ms in range(1, 101)],
                "Unit": "Microseconds",
            }
        )
    boto3.client("cloudwatch").put_metric_data(Namespace="AWS/SageMaker", MetricData=data)


def test_health_page_shows_endpoint_traffic_and_drift_alarm(names: DemoNames) -> None:
    seed_endpoint(None, names)
    seed_alarm(None, names)
    put_traffic(names)
    put_traffic(names, variant="Canary")  # another variant's traffic must not be counted

    app = run_app("views/health.py")

    assert not app.error[:-1], texts(app.error)  # the only error element is the drift alarm
    assert metric(app, "Status") == "InService"
    assert metric(app, "Instances") == "2"
    assert metric(app, "Invocations (total)") == "600"
    assert metric(app, "4XX errors (total)") == "6"
    assert metric(app, "5XX errors (total)") == "4"
    assert metric(app, "Worst p99 (ms)") == "99.0"
    variants = app.dataframe[0].value
    assert list(variants["Variant"]) == ["AllTraffic"]
    assert list(variants["Traffic share"]) == ["100%"]
    (drift,) = texts(app.error)
    assert drift.startswith("**Drift detected** — alarm churn-demo-drift is in ALARM")
    assert "feature_baseline_drift_monthly_charges was 0.31" in drift


def test_health_window_changes_the_period_and_keeps_the_data(names: DemoNames) -> None:
    seed_endpoint(None, names)
    put_traffic(names)

    app = run_app("views/health.py")
    app.segmented_control(key="health-window").set_value(24).run()

    assert not app.exception
    assert metric(app, "Invocations (total)") == "600"
    assert any("Period: 15 min" in t for t in texts(app.caption))


def test_an_idle_endpoint_and_an_ok_alarm_are_reported_as_such(names: DemoNames) -> None:
    seed_endpoint(None, names)
    seed_alarm(None, names)
    boto3.client("cloudwatch").set_alarm_state(AlarmName=names.alarm, StateValue="OK", StateReason="no drift in the last check")

    app = run_app("views/health.py")

    assert not app.error
    assert any("no datapoints" in t and "no traffic" in t for t in texts(app.info))
    assert any(t.startswith("No drift — alarm churn-demo-drift is OK") for t in texts(app.success))


def test_a_missing_endpoint_and_alarm_are_readable_and_do_not_hide_the_rest(
    app_env: pytest.MonkeyPatch,
) -> None:
    app_env.setenv("ENDPOINT_NAME", "churn-prod-endpoint")
    app_env.setenv("DRIFT_ALARM_NAME", "churn-prod-drift")

    app = run_app("views/health.py")

    (error,) = texts(app.error)
    assert error.startswith("Could not describe endpoint 'churn-prod-endpoint': it does not exist")
    assert "Could not find endpoint" in error  # SageMaker's own words are kept
    assert any("has no alarm named **churn-prod-drift**" in t for t in texts(app.warning))
    assert any("no datapoints" in t for t in texts(app.info))


# --- prediction ---------------------------------------------------------------------------------------

PREDICT = "views/predict.py"


def sent_rows(api: StubPredictionApi) -> list[list[float]]:
    return [row for r in api.requests for row in json.loads(r.body)["instances"]]


def test_prediction_form_sends_the_encoded_row_and_shows_the_probability(
    stub_api: StubPredictionApi, feature_names: tuple[str, ...]
) -> None:
    app = run_app(PREDICT)
    app.number_input(key="field-tenure_months").set_value(3)
    app.number_input(key="field-service_calls").set_value(5)
    app.selectbox(key="field-plan").set_value("premium")
    app.selectbox(key="field-autopay").set_value("no")
    app.button[0].click().run()  # the form's submit button

    assert not app.exception and not app.error, texts(app.error)
    (row,) = sent_rows(stub_api)
    sent = dict(zip(feature_names, row, strict=True))
    assert sent["tenure_months"] == 3
    assert sent["service_calls"] == 5
    # Categories are sent as their position in the schema's list: premium is the third plan, the
    # default contract month-to-month the first; no/yes are 0/1.
    assert sent["plan"] == 2.0
    assert sent["contract"] == 0.0
    assert sent["autopay"] == 0 and sent["international_plan"] == 0
    assert sent["monthly_charges"] == 60.0
    expected = stub_probability(sent)
    assert metric(app, "Churn probability") == f"{expected:.1%}"
    assert any("demo-stub" in t for t in texts(app.caption))


def test_prediction_form_rejects_bad_answers_without_calling_the_api(
    stub_api: StubPredictionApi,
) -> None:
    app = run_app(PREDICT)
    app.number_input(key="field-tenure_months").set_value(-4)
    app.number_input(key="field-monthly_minutes").set_value(50_000.0)
    app.button[0].click().run()

    (error,) = texts(app.error)
    assert error.startswith("Please correct the form; nothing was sent to the model.")
    assert "Tenure (months) must be at least 0 (got -4)." in error
    assert "Call minutes per month must be at most 44640 (got 50000)." in error
    assert not stub_api.requests
    assert not app.metric


def test_generic_form_requires_every_feature(app_env: pytest.MonkeyPatch, stub_api: StubPredictionApi) -> None:
    # Names the model schema doesn't know: the form falls back to one input per feature.
    app_env.setenv("FEATURE_NAMES", "tenure_months,monthly_charges")
    stub_api.feature_names = ("tenure_months", "monthly_charges")

    app = run_app(PREDICT)
    assert [n.label for n in app.number_input] == ["Tenure (months)", "Monthly charges ($)"]
    assert any("One input per model feature" in t for t in texts(app.caption))

    app.number_input[0].set_value(24)
    app.button[0].click().run()
    (error,) = texts(app.error)
    assert "Monthly charges ($) is required." in error
    assert not stub_api.requests

    app.number_input[1].set_value(80.5)
    app.button[0].click().run()
    assert not app.error
    assert sent_rows(stub_api) == [[24.0, 80.5]]
    expected = stub_probability({"tenure_months": 24, "monthly_charges": 80.5})
    assert metric(app, "Churn probability") == f"{expected:.1%}"


def test_an_unsigned_request_is_refused_like_the_iam_route_refuses_it(app_env: pytest.MonkeyPatch, stub_api: StubPredictionApi) -> None:
    app_env.setenv("API_AUTH", "none")  # what a task without the component's setting would send

    app = run_app(PREDICT)
    app.button[0].click().run()

    (error,) = texts(app.error)
    assert error.startswith("The prediction API answered 403: Forbidden. The route requires authorisation")
    assert "authorization" not in {k.lower() for k in stub_api.requests[0].headers}
    assert not app.metric


def test_an_api_error_body_becomes_a_readable_message(stub_api: StubPredictionApi) -> None:
    stub_api.forced_answer = (
        502,
        {"error": {"code": "EndpointError", "message": "the model endpoint failed to answer"}},
    )

    app = run_app(PREDICT)
    app.button[0].click().run()

    (error,) = texts(app.error)
    assert error == "The prediction API answered 502 (EndpointError): the model endpoint failed to answer"
    assert not app.metric


def test_an_unreachable_api_becomes_a_readable_message(app_env: pytest.MonkeyPatch) -> None:
    app_env.setenv("API_URL", "http://127.0.0.1:9")  # discard port: nothing listens

    app = run_app(PREDICT)
    app.button[0].click().run()

    (error,) = texts(app.error)
    assert error.startswith("Could not reach the prediction API at http://127.0.0.1:9/predict")


def test_iam_auth_signs_the_request_with_sigv4_for_execute_api(app_env: pytest.MonkeyPatch, stub_api: StubPredictionApi) -> None:
    app_env.setenv("API_AUTH", "iam")

    app = run_app(PREDICT)
    app.button[0].click().run()

    assert not app.error, texts(app.error)
    (received,) = stub_api.requests
    headers = {k.lower(): v for k, v in received.headers.items()}
    scope, signed, signature = headers["authorization"].removeprefix("AWS4-HMAC-SHA256 ").split(", ")
    # The environment's credentials (moto's fakes here; the task role in ECS) sign for API Gateway.
    access_key = os.environ["AWS_ACCESS_KEY_ID"]
    assert scope == f"Credential={access_key}/{headers['x-amz-date'][:8]}/us-east-1/execute-api/aws4_request"
    signed_headers = signed.removeprefix("SignedHeaders=").split(";")
    assert {"host", "x-amz-date", "x-amz-security-token", "content-type"} <= set(signed_headers)
    # Recompute the signature from what the server received: it must match, so API Gateway's
    # IAM authoriser would accept it.
    check = AWSRequest(
        method="POST",
        url=f"{stub_api.url}{received.path}",
        data=received.body,
        headers={h: headers[h] for h in signed_headers},
    )
    check.context["timestamp"] = headers["x-amz-date"]
    credentials = Credentials(access_key, os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_SESSION_TOKEN"])
    auth = SigV4Auth(credentials, "execute-api", "us-east-1")
    expected = auth.signature(auth.string_to_sign(check, auth.canonical_request(check)), check)
    assert signature == f"Signature={expected}"


def test_endpoint_backend_sends_csv_to_the_endpoint(app_env: pytest.MonkeyPatch, names: DemoNames, feature_names: tuple[str, ...]) -> None:
    from mlops_dashboard import aws

    app_env.setenv("PREDICTION_BACKEND", "endpoint")
    app_env.delenv("API_URL")
    seed_endpoint(None, names)
    # moto answers invoke_endpoint from a queue of canned results (its documented test hook).
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={
            "results": [
                {
                    "Body": "0.8125\n",
                    "ContentType": "text/csv",
                    "InvokedProductionVariant": "AllTraffic",
                }
            ]
        },
        timeout=5,
    )
    sent: list = []
    # The page's own (cached) client: record each request as botocore built it.
    aws.client("sagemaker-runtime", "us-east-1").meta.events.register(
        "request-created.sagemaker-runtime.InvokeEndpoint",
        lambda request, **_: sent.append(request),
    )

    app = run_app(PREDICT)
    app.button[0].click().run()

    assert not app.error, texts(app.error)
    assert metric(app, "Churn probability") == "81.2%"
    assert any("endpoint churn-demo-endpoint (variant AllTraffic)" in t for t in texts(app.caption))
    (request,) = sent
    assert request.url.endswith(f"/endpoints/{names.endpoint}/invocations")
    assert request.headers["Content-Type"] == "text/csv"
    values = [float(v) for v in request.body.decode().split(",")]
    assert len(values) == len(feature_names)
    assert dict(zip(feature_names, values, strict=True))["tenure_months"] == 12.0
