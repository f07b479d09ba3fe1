"""CodeDeploy: Lambda releases shift traffic gradually and roll back on failure and on alarms.

Stack policies: whether a deployment group deploys Lambda functions is a property of its
application (`computePlatform`), and whether its alarms exist is a property of the stack.
"""

from __future__ import annotations

from typing import Any, Optional

from pulumi_policy import ReportViolation, StackValidationArgs, StackValidationPolicy

from guardrails.common import StackView, as_list, bullet_list, get_path, label_of, truthy

APPLICATION = "aws:codedeploy/application:Application"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
CUSTOM_CONFIG = "aws:codedeploy/deploymentConfig:DeploymentConfig"
ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
PREDEFINED_LAMBDA_PREFIX = "CodeDeployDefault.Lambda"
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")


def lambda_groups(view: StackView) -> list[Any]:
    """Deployment groups of applications whose compute platform is Lambda."""
    found = []
    applications = view.of_type(APPLICATION)
    for group in view.of_type(GROUP):
        app = next((a for a in applications if view.refers_to(group, "appName", a, "name")), None)
        if app is not None:
            if app.props.get("computePlatform") == "Lambda":
                found.append(group)
        elif str(group.props.get("deploymentConfigName") or "").startswith(PREDEFINED_LAMBDA_PREFIX):
            found.append(group)  # the application lives elsewhere; the config says Lambda
    return found


def _custom_config(view: StackView, group: Any) -> Optional[Any]:
    return next(
        (c for c in view.of_type(CUSTOM_CONFIG) if view.refers_to(group, "deploymentConfigName", c, "deploymentConfigName", "id")), None
    )


def _gradual(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for group in lambda_groups(view):
        name = group.props.get("deploymentConfigName")
        custom = _custom_config(view, group)
        routing = get_path(custom.props, "trafficRoutingConfig", "type") if custom is not None else None
        if custom is not None and routing in ("TimeBasedCanary", "TimeBasedLinear"):
            continue
        if custom is None and isinstance(name, str) and name.startswith(PREDEFINED_LAMBDA_PREFIX) and name != ALL_AT_ONCE:
            continue
        what = (
            f"custom configuration with traffic routing {routing or 'AllAtOnce'}"
            if custom is not None
            else (name or "no deployment configuration")
        )
        report(
            f"{label_of(group)} shifts all traffic to a new Lambda version at once ({what}): a bad release reaches every "
            "caller before an alarm can stop it. Use a canary or linear configuration such as "
            "CodeDeployDefault.LambdaCanary10Percent5Minutes (api.deploymentConfig).",
            group.urn,
        )


def _rollback(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for group in lambda_groups(view):
        problems = []
        rollback = group.props.get("autoRollbackConfiguration")
        events = {str(e) for e in as_list(get_path(rollback, "events"))} if rollback else set()
        if not rollback or not truthy(get_path(rollback, "enabled")):
            problems.append("automatic rollback is off")
        missing_events = [e for e in ROLLBACK_EVENTS if e not in events]
        if rollback and truthy(get_path(rollback, "enabled")) and missing_events:
            problems.append(f"rollback does not react to {', '.join(missing_events)}")
        alarms = group.props.get("alarmConfiguration")
        names = [str(a) for a in as_list(get_path(alarms, "alarms"))] if alarms else []
        if not alarms or not truthy(get_path(alarms, "enabled")) or not names:
            problems.append("no alarms are monitored during the deployment")
        undeclared = view.undeclared_alarms(names)
        if undeclared:
            problems.append(undeclared)
        if problems:
            report(
                f"{label_of(group)} cannot roll a bad Lambda release back by itself:{bullet_list(problems)}\n"
                "Set auto_rollback_configuration(enabled=True, events=['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) and "
                "alarm_configuration(enabled=True, alarms=[the function's error and duration alarms and the API's 5XX alarm]).",
                group.urn,
            )


codedeploy_lambda_gradual = StackValidationPolicy(
    name="codedeploy-lambda-gradual",
    description="CodeDeploy Lambda deployment groups shift traffic by canary or linear steps, never all at once.",
    validate=_gradual,
)
codedeploy_auto_rollback = StackValidationPolicy(
    name="codedeploy-auto-rollback",
    description="CodeDeploy Lambda deployment groups roll back on failure and on alarms, and monitor alarms that exist.",
    validate=_rollback,
)

POLICIES = [codedeploy_lambda_gradual, codedeploy_auto_rollback]
