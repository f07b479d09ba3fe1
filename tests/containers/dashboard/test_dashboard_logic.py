"""The dashboard's logic without Streamlit's runner: settings, messages, parsing, the form."""

from __future__ import annotations

import math

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from mlops_dashboard import features, health
from mlops_dashboard.aws import describe_error
from mlops_dashboard.prediction import PredictionError, parse_probability, to_csv
from mlops_dashboard.registry import parse_evaluation
from mlops_dashboard.settings import SettingsError, load_settings

from tools.dashboard_demo.cli import stub_probability

# --- settings ------------------------------------------------------------------------------------


def test_settings_defaults_and_normalisation() -> None:
    settings = load_settings(
        {
            "AWS_REGION": "eu-west-1",
            "API_URL": "https://abc.execute-api.eu-west-1.amazonaws.com/",
            "FEATURE_NAMES": " tenure_months, plan ,autopay",
            "MODEL_PACKAGE_GROUP": "  ",
        }
    )
    assert settings.region == "eu-west-1"
    assert settings.prediction_backend == "api" and settings.api_auth == "none"
    assert settings.api_url == "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert settings.feature_names == ("tenure_months", "plan", "autopay")
    assert settings.model_package_group is None  # blank counts as unset


def test_settings_report_every_problem_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "PREDICTION_BACKEND": "lambda",
                "API_AUTH": "cognito",
                "FEATURE_NAMES": "a,,b,a",
            }
        )
    lines = str(raised.value).splitlines()
    assert lines == [
        "AWS_REGION is not set: the region of the SageMaker resources is required",
        "PREDICTION_BACKEND='lambda' is not allowed: use one of api, endpoint",
        "API_AUTH='cognito' is not allowed: use one of none, iam",
        "FEATURE_NAMES='a,,b,a' has an empty name (check the commas)",
        "FEATURE_NAMES repeats a",
    ]


def test_region_falls_back_to_aws_default_region() -> None:
    assert load_settings({"AWS_DEFAULT_REGION": "ap-southeast-2"}).region == "ap-southeast-2"


# --- AWS error messages ------------------------------------------------------------------------------


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeEndpoint")


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (
            client_error("AccessDeniedException", "not authorized"),
            "access denied — the dashboard's IAM role",
        ),
        (
            client_error("ExpiredTokenException", "token expired"),
            "the AWS credentials were rejected",
        ),
        (client_error("ThrottlingException", "Rate exceeded"), "AWS is throttling requests"),
        (client_error("NoSuchKey", "The specified key does not exist."), "it does not exist (yet)"),
        (
            client_error("ValidationException", "Could not find endpoint x"),
            "it does not exist (yet)",
        ),
        (client_error("ValidationException", "bad value"), "the request failed"),
    ],
)
def test_client_errors_say_what_failed_and_keep_aws_words(error: ClientError, hint: str) -> None:
    message = describe_error("describe endpoint 'x'", error).message
    code = error.response["Error"]["Code"]
    assert message.startswith(f"Could not describe endpoint 'x': {hint}")
    assert message.endswith(f"(AWS answered {code}: {error.response['Error']['Message']})")


def test_transport_and_credential_errors_are_explained() -> None:
    no_credentials = describe_error("list models", NoCredentialsError()).message
    assert "no AWS credentials were found" in no_credentials and "task role" in no_credentials
    offline = describe_error(
        "list models",
        EndpointConnectionError(endpoint_url="https://api.sagemaker.eu-west-1.amazonaws.com/"),
    )
    assert offline.code == "ConnectionError"
    assert "could not be reached" in offline.message and "NAT gateway or VPC endpoints" in offline.message


# --- registry and health parsing ----------------------------------------------------------------------------


def test_evaluation_report_metrics_are_read_by_name() -> None:
    report = {
        "binary_classification_metrics": {
            "auc": {"value": 0.91, "standard_deviation": "NaN"},
            "accuracy": {"value": 0.85},
            "confusion_matrix": {"0": {"0": 10, "1": 2}},  # not a scalar metric: skipped
            "flag": {"value": True},  # a bool is not a metric
        }
    }
    assert parse_evaluation(report) == {"auc": 0.91, "accuracy": 0.85}
    with pytest.raises(ValueError, match="no metric"):
        parse_evaluation({"binary_classification_metrics": {}})
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_evaluation([0.9])


@pytest.mark.parametrize(("hours", "period"), [(1, 60), (3, 300), (6, 300), (12, 900), (24, 900)])
def test_periods_are_cloudwatch_friendly_and_bounded(hours: int, period: int) -> None:
    assert health.period_for(hours) == period
    assert hours * 3600 / period <= health.MAX_POINTS


# --- prediction parsing ------------------------------------------------------------------------------------


def test_traffic_shares_follow_the_weights_and_say_when_none_is_reported() -> None:
    def variant(name: str, weight: float | None) -> health.Variant:
        return health.Variant(name=name, current_instances=1, desired_instances=1, current_weight=weight, serverless=False)

    assert health.traffic_shares((variant("AllTraffic", 1.0),)) == {"AllTraffic": "100%"}
    assert health.traffic_shares((variant("Blue", 3.0), variant("Canary", 1.0))) == {"Blue": "75%", "Canary": "25%"}
    # While the endpoint is created DescribeEndpoint has no CurrentWeight: never print "None".
    assert health.traffic_shares((variant("AllTraffic", None),)) == {"AllTraffic": "not reported"}
    assert health.traffic_shares((variant("Blue", 0.0),)) == {"Blue": "not reported"}


@pytest.mark.parametrize("answer", [0.25, "0.25", [0.25], {"probability": 0.25}, {"score": "0.25"}])
def test_probability_is_read_from_common_answer_shapes(answer: object) -> None:
    assert parse_probability(answer) == 0.25


@pytest.mark.parametrize("answer", [1.5, -0.1, "churn", True, math.nan, [0.2, 0.8], {"label": 1}])
def test_anything_but_a_probability_is_refused(answer: object) -> None:
    with pytest.raises(PredictionError):
        parse_probability(answer)


def test_csv_row_round_trips_floats_exactly() -> None:
    row = [0.1, 12, 1e-7, 720.0]
    assert [float(v) for v in to_csv(row).split(",")] == [0.1, 12.0, 1e-7, 720.0]


# --- the form ----------------------------------------------------------------------------------------------

schema = features.load_schema()
needs_schema = pytest.mark.skipif(schema is None, reason="containers/model/churn/schema.py is not in this checkout")


@needs_schema
def test_friendly_form_encodes_in_the_order_feature_names_gives() -> None:
    assert schema is not None
    names = tuple(reversed(schema.FEATURE_NAMES))  # the model's order is FEATURE_NAMES', not ours
    spec = features.build_form_spec(names, schema)
    assert spec.fallback_reason is None
    answers = {f.name: f.default for f in spec.fields}
    answers.update(plan="basic", contract="two-year", autopay="no", tenure_months=30)
    row = dict(zip(names, spec.encode(answers), strict=True))
    # Each category is its position in the schema's list (basic/standard/premium, month-to-month/
    # one-year/two-year, no/yes); every answer here differs from the form's default.
    assert row["plan"] == 0.0 and row["contract"] == 2.0
    assert row["autopay"] == 0 and row["tenure_months"] == 30
    assert len(row) == len(schema.FEATURE_NAMES)


@needs_schema
def test_demo_stub_reads_the_encoded_row_the_form_sends() -> None:
    # The demo's rule-based "model" names the features it weighs; a name the encoding does not
    # produce would be read as 0 and silently drop out of the rule.
    assert schema is not None
    spec = features.build_form_spec((), schema)
    defaults = {f.name: f.default for f in spec.fields}

    def probability(**changes: float | str) -> float:
        row = spec.encode({**defaults, **changes})
        return stub_probability(dict(zip(spec.feature_names, row, strict=True)))

    assert probability(contract="month-to-month") > probability(contract="one-year") > probability(contract="two-year")
    assert probability(autopay="no") > probability(autopay="yes")
    assert probability(international_plan="yes") > probability(international_plan="no")
    assert probability(service_calls=6) > probability(service_calls=1)
    assert probability(tenure_months=2) > probability(tenure_months=60)
    assert probability(monthly_charges=110.0) > probability(monthly_charges=30.0)


@needs_schema
def test_a_schema_that_does_not_match_feature_names_falls_back_with_the_reason() -> None:
    assert schema is not None
    names = (*schema.FEATURE_NAMES[:-1], "loyalty_points")
    spec = features.build_form_spec(names, schema)
    assert all(isinstance(f, features.NumberField) and f.default is None for f in spec.fields)
    assert spec.fallback_reason is not None
    assert f"not in FEATURE_NAMES: {schema.FEATURE_NAMES[-1]}" in spec.fallback_reason
    assert "not in the schema: loyalty_points" in spec.fallback_reason


def test_without_schema_or_feature_names_the_form_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="FEATURE_NAMES is not set"):
        features.build_form_spec((), None)


def test_validation_names_each_bad_answer() -> None:
    spec = features.FormSpec(
        fields=(
            features.NumberField("calls", "Service calls", 0.0, 1000.0, integer=True, default=1.0),
            features.NumberField("charges", "Charges", 0.0, None, integer=False, default=None),
            features.ChoiceField("plan", "Plan", ("basic", "premium"), "basic"),
        ),
        feature_names=("calls", "charges", "plan"),
        encode=lambda answers: [],
        fallback_reason=None,
    )
    assert features.validate(spec, {"calls": 3, "charges": 9.5, "plan": "basic"}) == []
    assert features.validate(spec, {"calls": 2.5, "charges": None, "plan": "gold"}) == [
        "Service calls must be a whole number (got 2.5).",
        "Charges is required.",
        "Plan: choose one of basic, premium.",
    ]
    assert features.validate(spec, {"calls": 1001, "charges": math.inf, "plan": "basic"}) == [
        "Service calls must be at most 1000 (got 1001).",
        "Charges: inf is not a finite number.",
    ]
