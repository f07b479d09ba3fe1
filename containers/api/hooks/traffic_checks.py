"""What the traffic hooks check, and how they report to CodeDeploy.

Both hooks read the deployment (function, alias, current and target version from its AppSpec),
run their checks, and report exactly one `Succeeded`/`Failed` through
PutLifecycleEventHookExecutionStatus. Any exception during the checks is a `Failed`, so a broken
check can never leave a deployment waiting for the hook's one-hour timeout; only a failure to
report is raised (the asynchronous invocation is then retried by Lambda).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

GOLDEN_PATH = Path(__file__).with_name("golden.json")
SUCCEEDED = "Succeeded"
FAILED = "Failed"
LAMBDA_FUNCTION_TYPE = "AWS::Lambda::Function"
# Seconds kept in reserve to report after the last check: one slow invocation of the API function
# (API Gateway caps it at 30 s) plus the report call itself.
RESERVE_SECONDS = 45.0


class HookCheckError(Exception):
    """A check could not run (bad deployment data, bad golden file): the hook reports Failed."""


@dataclass(frozen=True)
class DeploymentTarget:
    deployment_id: str
    function_name: str
    alias: str
    current_version: str
    target_version: str
    created_at: datetime | None


@dataclass(frozen=True)
class GoldenCase:
    name: str
    content_type: str
    body: str
    status: int
    # For 200: one entry per expected prediction, either [low, high] for a bare number or
    # {"field": [low, high]} for an object. For errors: the expected `error.code`.
    predictions: tuple[Any, ...] = ()
    error_code: str | None = None


# ---------------------------------------------------------------------------------------------
# Golden payloads
# ---------------------------------------------------------------------------------------------


def _range_ok(spec: Any) -> bool:
    return (
        isinstance(spec, list)
        and len(spec) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec)
        and spec[0] <= spec[1]
    )


def load_golden(path: Path = GOLDEN_PATH) -> tuple[GoldenCase, ...]:
    """Read and check the golden file; raise `HookCheckError` saying what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        raw_cases = document["cases"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HookCheckError(f"golden file {path.name} is unreadable: {exc}") from exc
    if not isinstance(raw_cases, list) or not raw_cases:
        raise HookCheckError(f"golden file {path.name} has no cases")
    cases = []
    for i, raw in enumerate(raw_cases):
        try:
            name = str(raw["name"])
            body = raw["body"] if isinstance(raw["body"], str) else json.dumps(raw["body"])
            expect = raw["expect"]
            status = int(expect["status"])
            predictions = tuple(expect.get("predictions", ()))
            error_code = expect.get("error_code")
            content_type = str(raw["content_type"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HookCheckError(f"golden case #{i} is malformed: {exc!r}") from exc
        specs_ok = all(_range_ok(p) or (isinstance(p, dict) and p and all(_range_ok(r) for r in p.values())) for p in predictions)
        if status == 200 and (not predictions or not specs_ok):
            raise HookCheckError(f"golden case {name!r}: a 200 case needs [low, high] ranges per row")
        if status != 200 and not error_code:
            raise HookCheckError(f"golden case {name!r}: an error case needs an error_code")
        cases.append(GoldenCase(name, content_type, body, status, predictions, error_code))
    return tuple(cases)


def api_event(case: GoldenCase) -> dict[str, Any]:
    """The API Gateway HTTP API (payload 2.0) event that `POST /predict` with this case produces."""
    now = datetime.now(timezone.utc)
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {
            "content-type": case.content_type,
            "accept": "application/json",
            "user-agent": "codedeploy-traffic-hook",
        },
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
            "requestId": f"traffic-hook-{case.name}",
            "routeKey": "POST /predict",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": case.body,
        "isBase64Encoded": False,
    }


def _in_range(value: Any, spec: list[float]) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and spec[0] <= value <= spec[1]


def check_answer(case: GoldenCase, answer: Any) -> list[str]:
    """Compare what the function returned for `case` with what the golden file expects."""
    label = f"golden case {case.name!r}"
    if not isinstance(answer, dict) or not isinstance(answer.get("body"), str):
        return [f"{label}: not an API Gateway proxy response: {str(answer)[:200]}"]
    status = answer.get("statusCode")
    try:
        body = json.loads(answer["body"])
    except ValueError:
        return [f"{label}: body is not JSON: {answer['body'][:200]!r}"]
    if status != case.status:
        return [f"{label}: status {status}, expected {case.status}: {answer['body'][:200]}"]
    if not isinstance(body, dict):
        return [f"{label}: body is not a JSON object"]
    if case.status != 200:
        error = body.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return [f"{label}: error body lacks error.code/error.message"]
        if error.get("code") != case.error_code:
            return [f"{label}: error code {error.get('code')!r}, expected {case.error_code!r}"]
        return []

    predictions = body.get("predictions")
    if "model_version" not in body:
        return [f"{label}: response lacks model_version"]
    if not isinstance(predictions, list) or len(predictions) != len(case.predictions):
        got = len(predictions) if isinstance(predictions, list) else "no"
        return [f"{label}: {got} predictions, expected {len(case.predictions)}"]
    problems = []
    for i, (value, spec) in enumerate(zip(predictions, case.predictions)):
        if isinstance(spec, list):
            if not _in_range(value, spec):
                problems.append(f"{label}: prediction {i} = {value!r} is outside {spec}")
            continue
        if not isinstance(value, dict):
            problems.append(f"{label}: prediction {i} = {value!r} is not an object")
            continue
        for field, field_spec in spec.items():
            if not _in_range(value.get(field), field_spec):
                problems.append(f"{label}: prediction {i}.{field} = {value.get(field)!r} is outside {field_spec}")
    return problems


def invoke_case(lambda_client: Any, function_name: str, qualifier: str, case: GoldenCase) -> Any:
    """Invoke `function_name:qualifier` with the case's API event; return the decoded result."""
    response = lambda_client.invoke(
        FunctionName=function_name,
        Qualifier=qualifier,
        InvocationType="RequestResponse",
        Payload=json.dumps(api_event(case)).encode("utf-8"),
    )
    payload = response["Payload"].read()
    if response.get("FunctionError"):
        # An unhandled error (or an init failure): the payload names its type and message.
        raise HookCheckError(
            f"golden case {case.name!r}: {function_name}:{qualifier} raised "
            f"({response['FunctionError']}): {payload[:300].decode('utf-8', 'replace')}"
        )
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise HookCheckError(f"golden case {case.name!r}: payload is not JSON: {payload[:200]!r}") from exc


def golden_problems(
    lambda_client: Any,
    function_name: str,
    qualifier: str,
    cases: tuple[GoldenCase, ...],
    remaining_seconds: Callable[[], float],
) -> list[str]:
    problems: list[str] = []
    for case in cases:
        if remaining_seconds() < RESERVE_SECONDS:
            problems.append(f"ran out of time before golden case {case.name!r}")
            break
        problems.extend(check_answer(case, invoke_case(lambda_client, function_name, qualifier, case)))
    return problems


# ---------------------------------------------------------------------------------------------
# Deployment, endpoint and metrics
# ---------------------------------------------------------------------------------------------


def read_deployment_target(codedeploy: Any, deployment_id: str) -> DeploymentTarget:
    """The Lambda function, alias and versions the deployment shifts, read from its AppSpec."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    revision = info.get("revision") or {}
    content = (revision.get("appSpecContent") or revision.get("string") or {}).get("content")
    if not content:
        raise HookCheckError(f"deployment {deployment_id} has no inline AppSpec (revision type {revision.get('revisionType')})")
    try:
        spec = json.loads(content)
        resources = spec["Resources"]
        function = next(
            body for entry in resources for body in entry.values() if isinstance(body, dict) and body.get("Type") == LAMBDA_FUNCTION_TYPE
        )
        properties = function["Properties"]
        return DeploymentTarget(
            deployment_id=deployment_id,
            function_name=str(properties["Name"]),
            alias=str(properties["Alias"]),
            current_version=str(properties.get("CurrentVersion", "")),
            target_version=str(properties["TargetVersion"]),
            created_at=info.get("createTime"),
        )
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration) as exc:
        raise HookCheckError(f"deployment {deployment_id}: AppSpec is not a JSON Lambda AppSpec ({exc!r})") from exc


def endpoint_problems(sagemaker: Any, endpoint_name: str) -> list[str]:
    status = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"]
    return [] if status == "InService" else [f"endpoint {endpoint_name} is {status}, not InService"]


def _bare_function_name(name: str) -> str:
    # CloudWatch's FunctionName dimension is the bare name, while an AppSpec may hold an ARN.
    return name.split(":")[6] if name.startswith("arn:") else name


def new_version_error_count(cloudwatch: Any, target: DeploymentTarget, now: datetime) -> float:
    """Lambda `Errors` of the target version since the deployment began.

    Counted twice over: invocations through the alias that ran the new version (dimension
    ExecutedVersion), and direct invocations of the version (the pre-traffic hook's).
    """
    name = _bare_function_name(target.function_name)
    version = target.target_version
    started = target.created_at or now - timedelta(hours=1)

    def query(query_id: str, dimensions: dict[str, str]) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }

    request: dict[str, Any] = {
        "MetricDataQueries": [
            query(
                "via_alias",
                {"FunctionName": name, "Resource": f"{name}:{target.alias}", "ExecutedVersion": version},
            ),
            query("direct", {"FunctionName": name, "Resource": f"{name}:{version}"}),
        ],
        # Whole minutes around the window, so that the minute the deployment began is included.
        "StartTime": started - timedelta(minutes=1),
        "EndTime": now + timedelta(minutes=1),
    }
    total = 0.0
    while True:
        response = cloudwatch.get_metric_data(**request)
        total += sum(sum(result.get("Values", ())) for result in response.get("MetricDataResults", ()))
        token = response.get("NextToken")
        if not token:
            return total
        request["NextToken"] = token


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def run_hook(
    *,
    deployment_id: str,
    execution_id: str,
    codedeploy: Any,
    checks: Callable[[DeploymentTarget], list[str]],
    log: Any,
) -> dict[str, Any]:
    """Run `checks` for the deployment and report the verdict; return it for the invocation log."""
    try:
        target = read_deployment_target(codedeploy, deployment_id)
        problems = checks(target)
    except Exception as exc:  # any failure of a check must become a Failed verdict
        log.exception("traffic check raised; reporting Failed")
        problems = [f"check raised {type(exc).__name__}: {exc}"]
    status = FAILED if problems else SUCCEEDED
    if problems:
        log.error("traffic checks failed", extra={"problems": problems})
    else:
        log.info("traffic checks passed")
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=execution_id,
        status=status,
    )
    return {"status": status, "problems": problems}
