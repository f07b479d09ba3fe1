"""AfterAllowTraffic hook: the live alias (now on the new version) must still answer correctly.

Invokes the alias with the golden payloads, checks the endpoint is InService and that the new
version has logged no Lambda `Errors` since the deployment began. Needs env ENDPOINT_NAME.
CloudWatch metrics arrive about a minute late: errors of the very last minute are left to the
deployment group's alarms, which keep watching after this hook.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.code_deploy_lifecycle_hook_event import (
    CodeDeployLifecycleHookEvent,
)

from hooks.aws_clients import make_client
from hooks.traffic_checks import (
    DeploymentTarget,
    endpoint_problems,
    golden_problems,
    load_golden,
    new_version_error_count,
    run_hook,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "predict-api-hooks"))
CODEDEPLOY: Any = make_client("codedeploy")
SAGEMAKER: Any = make_client("sagemaker")
CLOUDWATCH: Any = make_client("cloudwatch")
LAMBDA: Any = make_client("lambda", read_timeout=35.0, attempts=2)


def post_traffic_checks(
    target: DeploymentTarget,
    *,
    lambda_client: Any,
    sagemaker: Any,
    cloudwatch: Any,
    env: Mapping[str, str],
    remaining_seconds: Callable[[], float],
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> list[str]:
    endpoint = env.get("ENDPOINT_NAME", "")
    if not endpoint:
        return ["ENDPOINT_NAME is not set on the hook function"]
    cases = load_golden()
    problems = endpoint_problems(sagemaker, endpoint)
    problems += golden_problems(lambda_client, target.function_name, target.alias, cases, remaining_seconds)
    errors = new_version_error_count(cloudwatch, target, now())
    if errors > 0:
        problems.append(
            f"version {target.target_version} of {target.function_name} logged {errors:g} Lambda error(s) since the deployment began"
        )
    return problems


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=CodeDeployLifecycleHookEvent)
def handler(event: CodeDeployLifecycleHookEvent, context: LambdaContext) -> dict[str, Any]:
    return run_hook(
        deployment_id=event.deployment_id,
        execution_id=event.lifecycle_event_hook_execution_id,
        codedeploy=CODEDEPLOY,
        checks=lambda target: post_traffic_checks(
            target,
            lambda_client=LAMBDA,
            sagemaker=SAGEMAKER,
            cloudwatch=CLOUDWATCH,
            env=os.environ,
            remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
        ),
        log=logger,
    )
