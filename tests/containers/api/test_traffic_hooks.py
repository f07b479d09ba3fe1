"""The CodeDeploy traffic hooks, with every AWS call on botocore's Stubber.

Each test asserts the exact PutLifecycleEventHookExecutionStatus call: one per invocation, with the
deployment's ids and the verdict. The function answers the hooks receive are produced by running
the real prediction handler on the golden payloads, so these tests also pin the golden file to the
handler's behaviour. The AppSpec in the stubbed deployment is written by the release provider's own
`appspec_content`, so hooks and provider are checked against the same document.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from api_testkit import API_DIR, FEATURE_NAMES, FakeContext, model_answer, predict, streaming
from botocore.stub import ANY, Stubber
from hooks import post_traffic, pre_traffic, traffic_checks
from hooks.traffic_checks import GoldenCase, HookCheckError, check_answer, load_golden

from components.api.release_spec import ReleaseSpec, appspec_content

DEPLOYMENT_ID = "d-ABC123"
EXECUTION_ID = "exec-42"
FUNCTION = "predict-api"
CREATED = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
EVENT = {"DeploymentId": DEPLOYMENT_ID, "LifecycleEventHookExecutionId": EXECUTION_ID}
CASES = load_golden()
SPEC = ReleaseSpec(
    application_name="app",
    deployment_group_name="group",
    function_name=FUNCTION,
    alias_name="live",
    target_version="4",
    region="us-east-1",
    before_allow_traffic_hook="CodeDeployHook_pre",
    after_allow_traffic_hook="CodeDeployHook_post",
)


class ScriptedRuntime:
    """Answers the first n of `probabilities` for an n-row request."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = probabilities

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        rows = kwargs["Body"].count(b"\n") + 1
        return model_answer(self.probabilities[:rows])


def handler_answer(case: GoldenCase, probabilities: list[float]) -> dict[str, Any]:
    """What the real prediction handler returns for a golden case, given the model's answers."""
    with mock.patch.object(predict, "RUNTIME", ScriptedRuntime(probabilities)):
        return predict.handler(traffic_checks.api_event(case), FakeContext())


class PayloadFor:
    """Matches an Invoke payload that is the API event of `case` (Stubber compares with ==)."""

    def __init__(self, case: GoldenCase) -> None:
        self.case = case

    def __eq__(self, other: object) -> bool:
        event = json.loads(other)
        return event["body"] == self.case.body and event["headers"]["content-type"] == self.case.content_type

    def __repr__(self) -> str:
        return f"PayloadFor({self.case.name})"


def invoke_response(answer: dict[str, Any], version: str = "4") -> dict[str, Any]:
    return {"StatusCode": 200, "ExecutedVersion": version, "Payload": streaming(json.dumps(answer).encode())}


def deployment_info(spec: ReleaseSpec = SPEC, content: str | None = None) -> dict[str, Any]:
    content = content if content is not None else appspec_content(spec, "3")
    return {
        "deploymentInfo": {
            "deploymentId": DEPLOYMENT_ID,
            "applicationName": "app",
            "status": "InProgress",
            "createTime": CREATED,
            "computePlatform": "Lambda",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}},
        }
    }


def endpoint(status: str) -> dict[str, Any]:
    return {
        "EndpointName": "churn-endpoint",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-endpoint",
        "EndpointConfigName": "churn-config",
        "EndpointStatus": status,
        "CreationTime": CREATED,
        "LastModifiedTime": CREATED,
    }


class Stubs:
    def __init__(self, module: Any) -> None:
        names = [n for n in ("CODEDEPLOY", "LAMBDA", "SAGEMAKER", "CLOUDWATCH") if hasattr(module, n)]
        self.by_name = {n: Stubber(getattr(module, n)) for n in names}
        self.codedeploy = self.by_name["CODEDEPLOY"]
        self.lambda_ = self.by_name["LAMBDA"]
        self.sagemaker = self.by_name["SAGEMAKER"]
        self.cloudwatch = self.by_name.get("CLOUDWATCH")

    def deployment(self, content: str | None = None) -> None:
        self.codedeploy.add_response("get_deployment", deployment_info(content=content), {"deploymentId": DEPLOYMENT_ID})

    def endpoint(self, status: str = "InService") -> None:
        self.sagemaker.add_response("describe_endpoint", endpoint(status), {"EndpointName": "churn-endpoint"})

    def golden(self, qualifier: str, probabilities: list[float] = (0.9, 0.1), cases: tuple[GoldenCase, ...] = CASES) -> None:
        for case in cases:
            self.lambda_.add_response(
                "invoke",
                invoke_response(handler_answer(case, list(probabilities))),
                {
                    "FunctionName": FUNCTION,
                    "Qualifier": qualifier,
                    "InvocationType": "RequestResponse",
                    "Payload": PayloadFor(case),
                },
            )

    def verdict(self, status: str) -> None:
        self.codedeploy.add_response(
            "put_lifecycle_event_hook_execution_status",
            {"lifecycleEventHookExecutionId": EXECUTION_ID},
            {"deploymentId": DEPLOYMENT_ID, "lifecycleEventHookExecutionId": EXECUTION_ID, "status": status},
        )

    def error_metrics(self, *pages: list[float]) -> None:
        name = FUNCTION
        queries = [
            {
                "Id": "via_alias",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [
                            {"Name": "FunctionName", "Value": name},
                            {"Name": "Resource", "Value": f"{name}:live"},
                            {"Name": "ExecutedVersion", "Value": "4"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            },
            {
                "Id": "direct",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [
                            {"Name": "FunctionName", "Value": name},
                            {"Name": "Resource", "Value": f"{name}:4"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            },
        ]
        for i, values in enumerate(pages):
            expected = {"MetricDataQueries": queries, "StartTime": CREATED - timedelta(minutes=1), "EndTime": ANY}
            if i:
                expected["NextToken"] = f"page-{i}"
            response: dict[str, Any] = {
                "MetricDataResults": [
                    {"Id": "via_alias", "Values": values, "Timestamps": [CREATED] * len(values), "StatusCode": "Complete"},
                    {"Id": "direct", "Values": [], "Timestamps": [], "StatusCode": "Complete"},
                ]
            }
            if i < len(pages) - 1:
                response["NextToken"] = f"page-{i + 1}"
            self.cloudwatch.add_response("get_metric_data", response, expected)

    def __enter__(self) -> Stubs:
        for stub in self.by_name.values():
            stub.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        for stub in self.by_name.values():
            stub.deactivate()

    def assert_done(self) -> None:
        for stub in self.by_name.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def pre(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubs]:
    monkeypatch.setenv("ENDPOINT_NAME", "churn-endpoint")
    with Stubs(pre_traffic) as stubs:
        yield stubs


@pytest.fixture
def post(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubs]:
    monkeypatch.setenv("ENDPOINT_NAME", "churn-endpoint")
    with Stubs(post_traffic) as stubs:
        yield stubs


# --- golden payloads ---------------------------------------------------------------------------


def test_golden_features_are_the_models_features():
    sys.path.insert(0, str(API_DIR.parent / "model"))
    try:
        from churn.schema import FEATURE_NAMES as MODEL_FEATURES
    finally:
        sys.path.remove(str(API_DIR.parent / "model"))
    assert FEATURE_NAMES == MODEL_FEATURES


def test_golden_cases_pass_against_the_real_handler():
    assert {c.status for c in CASES} >= {200, 400, 415}
    for case in CASES:
        assert check_answer(case, handler_answer(case, [0.9, 0.1])) == [], case.name


@pytest.mark.parametrize(
    ("probabilities", "fragment"),
    [([0.2, 0.1], "prediction 0.churn_probability = 0.2 is outside [0.5, 1.0]"), ([0.9, 0.7], "prediction 1")],
)
def test_golden_check_catches_a_wrong_model(probabilities, fragment):
    problems = check_answer(CASES[0], handler_answer(CASES[0], probabilities))
    assert any(fragment in p for p in problems), problems


def test_golden_check_catches_wrong_shape_and_status():
    case = CASES[0]
    assert "status 502" in check_answer(case, {"statusCode": 502, "body": '{"error": {}}'})[0]
    assert "body is not JSON" in check_answer(case, {"statusCode": 200, "body": "<html>"})[0]
    answer = {"statusCode": 200, "body": json.dumps({"predictions": [{"churn_probability": 0.9}], "model_version": "1"})}
    assert "1 predictions, expected 2" in check_answer(case, answer)[0]
    no_version = {"statusCode": 200, "body": json.dumps({"predictions": []})}
    assert "lacks model_version" in check_answer(case, no_version)[0]
    error_case = next(c for c in CASES if c.status == 400)
    wrong_code = {"statusCode": 400, "body": json.dumps({"error": {"code": "other", "message": "m"}})}
    assert "error code 'other'" in check_answer(error_case, wrong_code)[0]


def test_malformed_golden_file_is_reported(tmp_path):
    path = tmp_path / "golden.json"
    path.write_text(json.dumps({"cases": [{"name": "x", "content_type": "text/csv", "body": "1", "expect": {"status": 200}}]}))
    with pytest.raises(HookCheckError, match="needs \\[low, high\\] ranges"):
        load_golden(path)
    path.write_text("{")
    with pytest.raises(HookCheckError, match="unreadable"):
        load_golden(path)


# --- pre-traffic -------------------------------------------------------------------------------


def test_pre_traffic_succeeds_invoking_the_new_version(pre, context):
    pre.deployment()
    pre.endpoint("InService")
    pre.golden(qualifier="4")  # the TargetVersion, not the alias
    pre.verdict("Succeeded")
    assert pre_traffic.handler(EVENT, context) == {"status": "Succeeded", "problems": []}
    pre.assert_done()


def test_pre_traffic_fails_on_a_wrong_answer(pre, context):
    pre.deployment()
    pre.endpoint("InService")
    pre.golden(qualifier="4", probabilities=[0.3, 0.1])
    pre.verdict("Failed")
    result = pre_traffic.handler(EVENT, context)
    assert result["status"] == "Failed"
    assert any("is outside [0.5, 1.0]" in p for p in result["problems"])
    pre.assert_done()


def test_pre_traffic_fails_when_the_endpoint_is_not_in_service(pre, context):
    pre.deployment()
    pre.endpoint("Updating")
    pre.golden(qualifier="4")
    pre.verdict("Failed")
    result = pre_traffic.handler(EVENT, context)
    assert result["problems"] == ["endpoint churn-endpoint is Updating, not InService"]
    pre.assert_done()


def test_pre_traffic_fails_when_the_new_version_errors(pre, context):
    pre.deployment()
    pre.endpoint("InService")
    pre.lambda_.add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": streaming(b'{"errorMessage": "invalid prediction API configuration", "errorType": "ConfigError"}'),
        },
        {"FunctionName": FUNCTION, "Qualifier": "4", "InvocationType": "RequestResponse", "Payload": ANY},
    )
    pre.verdict("Failed")
    result = pre_traffic.handler(EVENT, context)
    assert result["status"] == "Failed"
    assert "ConfigError" in result["problems"][0]
    pre.assert_done()


def test_pre_traffic_reports_failed_when_a_call_raises(pre, context):
    pre.codedeploy.add_client_error("get_deployment", service_error_code="DeploymentDoesNotExistException", http_status_code=400)
    pre.verdict("Failed")
    result = pre_traffic.handler(EVENT, context)
    assert result["status"] == "Failed"
    assert "DeploymentDoesNotExistException" in result["problems"][0]
    pre.assert_done()


def test_pre_traffic_reports_failed_when_invoke_is_refused(pre, context):
    pre.deployment()
    pre.endpoint("InService")
    pre.lambda_.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
    pre.verdict("Failed")
    assert pre_traffic.handler(EVENT, context)["status"] == "Failed"
    pre.assert_done()


def test_pre_traffic_fails_on_an_appspec_it_cannot_read(pre, context):
    pre.deployment(content="version: 0.0\nResources: []\n")
    pre.verdict("Failed")
    result = pre_traffic.handler(EVENT, context)
    assert "not a JSON Lambda AppSpec" in result["problems"][0]
    pre.assert_done()


def test_pre_traffic_fails_without_endpoint_configuration(pre, context, monkeypatch):
    monkeypatch.delenv("ENDPOINT_NAME")
    pre.deployment()
    pre.verdict("Failed")
    assert pre_traffic.handler(EVENT, context)["problems"] == ["ENDPOINT_NAME is not set on the hook function"]
    pre.assert_done()


def test_a_failed_report_is_raised_so_lambda_retries(pre, context):
    pre.deployment()
    pre.endpoint("InService")
    pre.golden(qualifier="4")
    pre.codedeploy.add_client_error(
        "put_lifecycle_event_hook_execution_status", service_error_code="ThrottlingException", http_status_code=400
    )
    with pytest.raises(Exception, match="ThrottlingException"):
        pre_traffic.handler(EVENT, context)
    pre.assert_done()


# --- post-traffic ------------------------------------------------------------------------------


def test_post_traffic_succeeds_checking_the_alias_and_errors(post, context):
    post.deployment()
    post.endpoint("InService")
    post.golden(qualifier="live")
    post.error_metrics([0.0, 0.0], [0.0])  # two pages, all zero
    post.verdict("Succeeded")
    assert post_traffic.handler(EVENT, context) == {"status": "Succeeded", "problems": []}
    post.assert_done()


def test_post_traffic_fails_when_the_new_version_logged_errors(post, context):
    post.deployment()
    post.endpoint("InService")
    post.golden(qualifier="live")
    post.error_metrics([0.0, 2.0], [1.0])
    post.verdict("Failed")
    result = post_traffic.handler(EVENT, context)
    assert result["problems"] == ["version 4 of predict-api logged 3 Lambda error(s) since the deployment began"]
    post.assert_done()


def test_post_traffic_fails_on_a_single_error(post, context):
    """One failed invocation of the new version is one too many: the threshold is zero, not one."""
    post.deployment()
    post.endpoint("InService")
    post.golden(qualifier="live")
    post.error_metrics([0.0, 1.0])
    post.verdict("Failed")
    result = post_traffic.handler(EVENT, context)
    assert result == {"status": "Failed", "problems": ["version 4 of predict-api logged 1 Lambda error(s) since the deployment began"]}
    post.assert_done()


def test_post_traffic_fails_on_a_wrong_answer(post, context):
    post.deployment()
    post.endpoint("InService")
    post.golden(qualifier="live", probabilities=[0.9, 0.6])
    post.error_metrics([0.0])
    post.verdict("Failed")
    assert post_traffic.handler(EVENT, context)["status"] == "Failed"
    post.assert_done()


def test_post_traffic_fails_when_the_endpoint_is_gone(post, context):
    post.deployment()
    post.sagemaker.add_client_error("describe_endpoint", service_error_code="ValidationException", http_status_code=400)
    post.verdict("Failed")
    result = post_traffic.handler(EVENT, context)
    assert "ValidationException" in result["problems"][0]
    post.assert_done()


def test_post_traffic_stops_checking_before_its_own_timeout(post):
    post.deployment()
    post.endpoint("InService")
    post.error_metrics([0.0])
    post.verdict("Failed")
    result = post_traffic.handler(EVENT, FakeContext(remaining_ms=20_000))
    assert result["problems"] == [f"ran out of time before golden case {CASES[0].name!r}"]
    post.assert_done()


def test_function_arn_in_appspec_gives_bare_name_dimensions():
    target = traffic_checks.DeploymentTarget(
        DEPLOYMENT_ID, f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}", "live", "3", "4", CREATED
    )
    calls: list[dict[str, Any]] = []

    class Recorder:
        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"MetricDataResults": []}

    assert traffic_checks.new_version_error_count(Recorder(), target, CREATED) == 0
    dims = calls[0]["MetricDataQueries"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert {"Name": "FunctionName", "Value": FUNCTION} in dims
    assert {"Name": "Resource", "Value": f"{FUNCTION}:live"} in dims


# --- the golden file's rules and the event the hooks send, exactly -------------------------------


def write_golden(tmp_path, *cases: dict[str, Any]):
    path = tmp_path / "golden.json"
    path.write_text(json.dumps({"cases": list(cases)}))
    return path


def test_golden_cases_are_read_field_by_field(tmp_path):
    path = write_golden(
        tmp_path,
        {"name": 7, "content_type": "text/csv", "body": "1,2", "expect": {"status": 200, "predictions": [[0.5, 1.0], {"p": [0, 1]}]}},
        {
            "name": "bad",
            "content_type": "application/json",
            "body": {"instances": []},
            "expect": {"status": 400, "error_code": "bad_request"},
        },
    )
    assert load_golden(path) == (
        GoldenCase("7", "text/csv", "1,2", 200, ([0.5, 1.0], {"p": [0, 1]}), None),
        GoldenCase("bad", "application/json", '{"instances": []}', 400, (), "bad_request"),
    )


@pytest.mark.parametrize("spec", [[1.0, 0.5], {"p": [0.9, 0.1]}, [0.5], [True, 1.0]])
def test_a_golden_range_must_be_two_numbers_low_then_high(tmp_path, spec):
    path = write_golden(tmp_path, {"name": "x", "content_type": "text/csv", "body": "1", "expect": {"status": 200, "predictions": [spec]}})
    with pytest.raises(HookCheckError, match=r"golden case 'x': a 200 case needs \[low, high\] ranges per row"):
        load_golden(path)


def test_a_golden_file_that_cannot_be_read_is_named_with_what_is_wrong(tmp_path):
    path = write_golden(tmp_path, {"content_type": "text/csv", "body": "1", "expect": {"status": 200}})
    with pytest.raises(HookCheckError) as raised:
        load_golden(path)
    assert str(raised.value) == "golden case #0 is malformed: KeyError('name')"
    path.write_text("{")
    with pytest.raises(HookCheckError) as raised:
        load_golden(path)
    assert str(raised.value).startswith("golden file golden.json is unreadable: Expecting property name")


def test_a_prediction_on_either_edge_of_its_range_passes():
    case = GoldenCase("edges", "text/csv", "1\n2", 200, ({"churn_probability": [0.5, 1.0]}, {"churn_probability": [0.0, 0.5]}))
    answer = {"churn_probability": 0.5}, {"churn_probability": 0.5}
    body = json.dumps({"predictions": list(answer), "model_version": "4"})
    assert check_answer(case, {"statusCode": 200, "body": body}) == []


def test_the_hooks_send_what_api_gateway_sends_for_post_predict():
    """An HTTP API (payload format 2.0) request, as the prediction function receives it in service."""
    before = datetime.now(timezone.utc)
    event = traffic_checks.api_event(CASES[0])
    after = datetime.now(timezone.utc)
    context = event["requestContext"]
    assert before.timestamp() * 1000 - 1 <= context.pop("timeEpoch") <= after.timestamp() * 1000
    assert datetime.strptime(context.pop("time"), "%d/%b/%Y:%H:%M:%S %z") >= before.replace(microsecond=0)
    assert event == {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": CASES[0].content_type, "accept": "application/json", "user-agent": "codedeploy-traffic-hook"},
        "requestContext": {
            "accountId": "hook",
            "apiId": "hook",
            "domainName": "hook.invalid",
            "http": {
                "method": "POST",
                "path": "/predict",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "codedeploy-traffic-hook",
            },
            "requestId": f"traffic-hook-{CASES[0].name}",
            "routeKey": "POST /predict",
            "stage": "$default",
        },
        "body": CASES[0].body,
        "isBase64Encoded": False,
    }


def test_with_exactly_its_reserve_left_a_hook_still_checks(pre, post):
    """Lambda reports milliseconds; the reserve is in seconds (45 000 ms is 45.0 s, not less)."""
    left = FakeContext(remaining_ms=int(traffic_checks.RESERVE_SECONDS * 1000))
    pre.deployment()
    pre.endpoint("InService")
    pre.golden(qualifier="4")
    pre.verdict("Succeeded")
    assert pre_traffic.handler(EVENT, left) == {"status": "Succeeded", "problems": []}
    post.deployment()
    post.endpoint("InService")
    post.golden(qualifier="live")
    post.error_metrics([0.0])
    post.verdict("Succeeded")
    assert post_traffic.handler(EVENT, left) == {"status": "Succeeded", "problems": []}


ROWS = GoldenCase("c", "text/csv", "1\n2", 200, ([0.5, 1.0], {"p": [0.0, 0.5]}))
ERROR = GoldenCase("e", "text/csv", "x", 400, (), "bad_request")


def proxy(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "body": body if isinstance(body, str) else json.dumps(body)}


@pytest.mark.parametrize(
    ("case", "answer", "problems"),
    [
        (ROWS, "nope", ["golden case 'c': not an API Gateway proxy response: nope"]),
        (ROWS, proxy(200, "<html>"), ["golden case 'c': body is not JSON: '<html>'"]),
        (ROWS, proxy(502, {"error": {}}), ["golden case 'c': status 502, expected 200: {\"error\": {}}"]),
        (ROWS, proxy(200, [1]), ["golden case 'c': body is not a JSON object"]),
        (ROWS, proxy(200, {"predictions": [0.7, {"p": 0.1}]}), ["golden case 'c': response lacks model_version"]),
        (ROWS, proxy(200, {"model_version": "4"}), ["golden case 'c': no predictions, expected 2"]),
        (ROWS, proxy(200, {"predictions": [0.7], "model_version": "4"}), ["golden case 'c': 1 predictions, expected 2"]),
        (
            ROWS,
            proxy(200, {"predictions": [0.2, 0.3], "model_version": "4"}),
            ["golden case 'c': prediction 0 = 0.2 is outside [0.5, 1.0]", "golden case 'c': prediction 1 = 0.3 is not an object"],
        ),
        (
            ROWS,
            proxy(200, {"predictions": [1.0, {"p": 0.9}], "model_version": "4"}),
            ["golden case 'c': prediction 1.p = 0.9 is outside [0.0, 0.5]"],
        ),
        (ROWS, proxy(200, {"predictions": [1.0, {"p": 0.0}], "model_version": "4"}), []),
        (ERROR, proxy(400, {"error": "bad"}), ["golden case 'e': error body lacks error.code/error.message"]),
        (ERROR, proxy(400, {"error": {"code": "other", "message": "m"}}), ["golden case 'e': error code 'other', expected 'bad_request'"]),
        (ERROR, proxy(400, {"error": {"code": "bad_request", "message": "m"}}), []),
    ],
    ids=[
        "not-a-proxy-response",
        "not-json",
        "wrong-status",
        "not-an-object",
        "no-model-version",
        "no-predictions",
        "too-few",
        "outside-and-not-an-object",
        "field-outside",
        "right",
        "error-without-message",
        "wrong-error-code",
        "right-error",
    ],
)
def test_each_wrong_answer_is_named_exactly(case, answer, problems):
    assert check_answer(case, answer) == problems


class Recorder:
    """A stand-in client whose one method returns `answer` and records its calls."""

    def __init__(self, method: str, answer: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        setattr(self, method, lambda **kwargs: self.calls.append(kwargs) or answer)


def test_a_function_error_is_raised_with_the_first_300_bytes_of_its_payload():
    payload = mock.Mock(read=lambda: b"x" * 400)
    client = Recorder("invoke", {"FunctionError": "Unhandled", "Payload": payload})
    with pytest.raises(HookCheckError) as raised:
        traffic_checks.invoke_case(client, FUNCTION, "4", ROWS)
    assert str(raised.value) == f"golden case 'c': {FUNCTION}:4 raised (Unhandled): {'x' * 300}"
    assert client.calls[0]["Qualifier"] == "4" and client.calls[0]["InvocationType"] == "RequestResponse"


def test_a_deployment_without_an_inline_appspec_is_named_with_its_revision_type():
    codedeploy = Recorder("get_deployment", {"deploymentInfo": {"revision": {"revisionType": "S3"}}})
    with pytest.raises(HookCheckError) as raised:
        traffic_checks.read_deployment_target(codedeploy, DEPLOYMENT_ID)
    assert str(raised.value) == f"deployment {DEPLOYMENT_ID} has no inline AppSpec (revision type S3)"


def test_a_check_that_raises_is_reported_failed_naming_the_exception():
    codedeploy = Recorder("put_lifecycle_event_hook_execution_status", {})
    codedeploy.get_deployment = lambda **_: deployment_info()

    def broken(target):
        raise ValueError("boom")

    result = traffic_checks.run_hook(
        deployment_id=DEPLOYMENT_ID, execution_id=EXECUTION_ID, codedeploy=codedeploy, checks=broken, log=mock.Mock()
    )
    assert result == {"status": "Failed", "problems": ["check raised ValueError: boom"]}
    assert codedeploy.calls == [{"deploymentId": DEPLOYMENT_ID, "lifecycleEventHookExecutionId": EXECUTION_ID, "status": "Failed"}]


# --- the hooks' clients and settings ------------------------------------------------------------


@pytest.mark.parametrize("hook", [pre_traffic, post_traffic])
def test_no_client_call_can_outlive_the_hook(hook):
    """Explicit timeouts and retries: a hook killed by its own timeout reports nothing, and
    CodeDeploy then waits up to an hour. The Lambda invoke outlasts the API function (30 s)."""

    def settings(client):
        config = client.meta.config
        return config.connect_timeout, config.read_timeout, config.retries

    assert settings(hook.LAMBDA) == (5, 35.0, {"mode": "standard", "total_max_attempts": 2})
    for client in (hook.CODEDEPLOY, hook.SAGEMAKER):
        assert settings(client) == (5, 10.0, {"mode": "standard", "total_max_attempts": 3})
    assert hook.LAMBDA.meta.region_name == "us-east-1"  # AWS_REGION (tests/conftest.py)


def test_the_hooks_log_under_the_service_name_the_program_gives_them(monkeypatch):
    import importlib

    from components.api.canary_api import HOOK_SERVICE_NAME

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", HOOK_SERVICE_NAME + "-set")
    for hook in (pre_traffic, post_traffic):
        assert importlib.reload(hook).logger.service == HOOK_SERVICE_NAME + "-set"
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
    for hook in (pre_traffic, post_traffic):
        assert importlib.reload(hook).logger.service == "predict-api-hooks"


def refuse(**_: Any) -> Any:
    raise AssertionError("no AWS call without an endpoint to check")


@pytest.mark.parametrize("env", [{}, {"ENDPOINT_NAME": ""}])
def test_a_hook_without_its_endpoint_name_says_so_and_calls_nothing(env):
    target = traffic_checks.DeploymentTarget(DEPLOYMENT_ID, FUNCTION, "live", "3", "4", CREATED)
    clients = {"lambda_client": mock.Mock(invoke=refuse), "sagemaker": mock.Mock(describe_endpoint=refuse)}
    expected = ["ENDPOINT_NAME is not set on the hook function"]
    assert pre_traffic.pre_traffic_checks(target, env=env, remaining_seconds=lambda: 300.0, **clients) == expected
    cloudwatch = mock.Mock(get_metric_data=refuse)
    assert post_traffic.post_traffic_checks(target, env=env, remaining_seconds=lambda: 300.0, cloudwatch=cloudwatch, **clients) == expected


def test_a_hook_reports_every_problem_it_finds_not_only_the_last():
    target = traffic_checks.DeploymentTarget(DEPLOYMENT_ID, FUNCTION, "live", "3", "4", CREATED)
    wrong = handler_answer(CASES[0], [0.2, 0.9])
    lambda_client = mock.Mock(invoke=lambda **_: {"Payload": mock.Mock(read=lambda: json.dumps(wrong).encode())})
    sagemaker = mock.Mock(describe_endpoint=lambda **_: {"EndpointStatus": "Updating"})
    cloudwatch = mock.Mock(get_metric_data=lambda **_: {"MetricDataResults": [{"Values": [2.0]}]})
    env = {"ENDPOINT_NAME": "churn-endpoint"}
    pre = pre_traffic.pre_traffic_checks(target, lambda_client=lambda_client, sagemaker=sagemaker, env=env, remaining_seconds=lambda: 300.0)
    post = post_traffic.post_traffic_checks(
        target, lambda_client=lambda_client, sagemaker=sagemaker, cloudwatch=cloudwatch, env=env, remaining_seconds=lambda: 300.0
    )
    for problems in (pre, post):
        assert problems[0] == "endpoint churn-endpoint is Updating, not InService"
        assert any("prediction 0" in p for p in problems[1:])
    assert post[-1] == f"version 4 of {FUNCTION} logged 2 Lambda error(s) since the deployment began"


def test_with_a_millisecond_less_than_its_reserve_a_hook_stops_before_the_golden_cases(pre, post):
    short = FakeContext(remaining_ms=int(traffic_checks.RESERVE_SECONDS * 1000) - 1)
    pre.deployment()
    pre.endpoint("InService")
    pre.verdict("Failed")
    assert pre_traffic.handler(EVENT, short)["problems"] == [f"ran out of time before golden case {CASES[0].name!r}"]
    pre.assert_done()


@pytest.mark.parametrize("document", [{"cases": []}, {"cases": {"a": 1}}])
def test_a_golden_file_without_cases_is_refused(tmp_path, document):
    path = tmp_path / "golden.json"
    path.write_text(json.dumps(document))
    with pytest.raises(HookCheckError) as raised:
        load_golden(path)
    assert str(raised.value) == "golden file golden.json has no cases"


def test_golden_cases_and_the_deployment_target_cannot_be_changed():
    """Loaded once per container and shared by every invocation, or read once per deployment and
    passed to every check: no check may edit one."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        CASES[0].status = 500  # type: ignore[misc]
    target = traffic_checks.DeploymentTarget(DEPLOYMENT_ID, FUNCTION, "live", "3", "4", CREATED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.target_version = "5"  # type: ignore[misc]


def test_a_body_that_is_not_json_is_shown_cut_at_200_characters():
    body = "<" + "x" * 300
    assert check_answer(ROWS, proxy(200, body)) == [f"golden case 'c': body is not JSON: {body[:200]!r}"]


def test_a_golden_error_case_must_name_its_error_code(tmp_path):
    path = write_golden(tmp_path, {"name": "bad", "content_type": "text/csv", "body": "x", "expect": {"status": 400}})
    with pytest.raises(HookCheckError) as raised:
        load_golden(path)
    assert str(raised.value) == "golden case 'bad': an error case needs an error_code"
