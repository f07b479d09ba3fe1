"""BeforeAllowTraffic hook: the new version must answer the golden payloads before any traffic.

It invokes the version CodeDeploy is shifting to (TargetVersion from the deployment's AppSpec),
never the alias, which still points at the old version here, and checks the endpoint is InService.
Needs env ENDPOINT_NAME.
"""

from __future__ import annotations

import os
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
    run_hook,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "predict-api-hooks"))
CODEDEPLOY: Any = make_client("codedeploy")
SAGEMAKER: Any = make_client("sagemaker")
# Longer than the API function can run (API Gateway stops waiting at 30 s), one retry.
LAMBDA: Any = make_client("lambda", read_timeout=35.0, attempts=2)


def pre_traffic_checks(
    target: DeploymentTarget,
    *,
    lambda_client: Any,
    sagemaker: Any,
    env: Mapping[str, str],
    remaining_seconds: Callable[[], float],
) -> list[str]:
    endpoint = env.get("ENDPOINT_NAME", "")
    if not endpoint:
        return ["ENDPOINT_NAME is not set on the hook function"]
    cases = load_golden()
    problems = endpoint_problems(sagemaker, endpoint)
    problems += golden_problems(lambda_client, target.function_name, target.target_version, cases, remaining_seconds)
    return problems


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=CodeDeployLifecycleHookEvent)
def handler(event: CodeDeployLifecycleHookEvent, context: LambdaContext) -> dict[str, Any]:
    return run_hook(
        deployment_id=event.deployment_id,
        execution_id=event.lifecycle_event_hook_execution_id,
        codedeploy=CODEDEPLOY,
        checks=lambda target: pre_traffic_checks(
            target,
            lambda_client=LAMBDA,
            sagemaker=SAGEMAKER,
            env=os.environ,
            remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
        ),
        log=logger,
    )
