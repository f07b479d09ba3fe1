"""The account's real Lambda concurrency, read when it matters: at `pulumi up`, with the deploy
role's credentials, before the prediction function reserves any.

pulumi-aws has no data source for Lambda's account settings, and Service Quotas' GetServiceQuota
returns the quota, not what other functions have already reserved from it. Lambda's
GetAccountSettings returns both the limit and the unreserved concurrency; PutFunctionConcurrency
refuses a reservation that leaves fewer than 100 executions unreserved, after the function and its
API were created, so the program checks first and says what to request.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from components.config.api import LAMBDA_UNRESERVED_MINIMUM
from components.config.base import PROJECT

# Service Quotas: AWS Lambda "Concurrent executions".
CONCURRENCY_QUOTA_CODE = "L-B99A9384"


class QuotaError(Exception):
    """The account's Lambda concurrency cannot give the function the reservation its config asks for."""


def reservation_room(lambda_client: Any, function_name: str) -> tuple[int, int]:
    """(account concurrency limit, the most this function may reserve) in the client's Region."""
    settings = lambda_client.get_account_settings()
    limit = settings["AccountLimit"]["ConcurrentExecutions"]
    unreserved = settings["AccountLimit"]["UnreservedConcurrentExecutions"]
    try:
        own = lambda_client.get_function_concurrency(FunctionName=function_name).get("ReservedConcurrentExecutions") or 0
    except lambda_client.exceptions.ResourceNotFoundException:
        own = 0  # the first deploy: the function does not exist yet
    # Its own current reservation returns to the pool when it is changed.
    return limit, unreserved + own - LAMBDA_UNRESERVED_MINIMUM


def check_reserved_concurrency(lambda_client: Any, function_name: str, reserved: int, region: str) -> None:
    """Raises QuotaError naming the key, the account's numbers and the quota increase to request."""
    limit, most = reservation_room(lambda_client, function_name)
    if reserved <= most:
        return
    others = limit - LAMBDA_UNRESERVED_MINIMUM - most
    needed = reserved + LAMBDA_UNRESERVED_MINIMUM + others
    raise QuotaError(
        f"{PROJECT}:api.reservedConcurrency = {reserved}: the account's Lambda concurrency in {region} is {limit} "
        f"(lambda:GetAccountSettings), {others} of it reserved by other functions and {LAMBDA_UNRESERVED_MINIMUM} kept "
        f"unreserved by AWS, so expected at most {max(most, 0)}. Lower or remove api.reservedConcurrency, or request at least "
        f"{needed} concurrent executions: aws service-quotas request-service-quota-increase --region {region} "
        f"--service-code lambda --quota-code {CONCURRENCY_QUOTA_CODE} --desired-value {needed}"
    )


def preflight_reserved_concurrency(
    function_name: str, reserved: Optional[int], region: str, profile: Optional[str], deploying: bool
) -> Optional[str]:
    """At `up`: the real check (QuotaError when the account cannot give the reservation). Anywhere
    else, or without credentials to ask with: nothing is read, and the reason is returned for a log line."""
    if reserved is None:
        return None
    if not deploying:
        return "the account's Lambda concurrency is read at `pulumi up` only"
    import boto3
    import botocore.exceptions

    session = boto3.Session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        return "no AWS credentials to read the account's Lambda concurrency with; PutFunctionConcurrency will judge"
    try:
        check_reserved_concurrency(session.client("lambda"), function_name, reserved, region)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        return f"cannot read the account's Lambda concurrency ({json.dumps(error.get('Code'))}: {error.get('Message')}); PutFunctionConcurrency will judge"
    return None
