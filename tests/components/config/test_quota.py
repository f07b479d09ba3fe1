"""The reserved-concurrency preflight against the account's real Lambda numbers (botocore Stubber:
every request and response is validated against Lambda's service model)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from components.config.quota import CONCURRENCY_QUOTA_CODE, QuotaError, check_reserved_concurrency, preflight_reserved_concurrency

FUNCTION = "mlops-prod-predict"


def lambda_client(limit: int, unreserved: int, own: int | None):
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}},
        {},
    )
    if own is None:
        stub.add_client_error(
            "get_function_concurrency", "ResourceNotFoundException", http_status_code=404, expected_params={"FunctionName": FUNCTION}
        )
    else:
        stub.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": own}, {"FunctionName": FUNCTION})
    stub.activate()
    return client, stub


def test_a_reservation_within_the_unreserved_room_passes():
    client, stub = lambda_client(limit=1000, unreserved=1000, own=None)
    check_reserved_concurrency(client, FUNCTION, 900, "us-east-1")
    stub.assert_no_pending_responses()


def test_a_new_account_with_10_concurrent_executions_is_refused_with_the_quota_to_request():
    client, _ = lambda_client(limit=10, unreserved=10, own=None)
    with pytest.raises(QuotaError) as refused:
        check_reserved_concurrency(client, FUNCTION, 50, "us-east-1")
    assert str(refused.value) == (
        "sagemaker-mlops:api.reservedConcurrency = 50: the account's Lambda concurrency in us-east-1 is 10 "
        "(lambda:GetAccountSettings), 0 of it reserved by other functions and 100 kept unreserved by AWS, so expected at most 0. "
        "Lower or remove api.reservedConcurrency, or request at least 150 concurrent executions: aws service-quotas "
        f"request-service-quota-increase --region us-east-1 --service-code lambda --quota-code {CONCURRENCY_QUOTA_CODE} --desired-value 150"
    )
    assert CONCURRENCY_QUOTA_CODE == "L-B99A9384"  # Service Quotas: AWS Lambda, Concurrent executions


def test_other_functions_reservations_count_and_the_functions_own_returns_to_the_pool():
    # 1000 in all; 880 reserved elsewhere and 20 by this function: 100 unreserved.
    client, _ = lambda_client(limit=1000, unreserved=100, own=20)
    check_reserved_concurrency(client, FUNCTION, 20, "us-east-1")  # unchanged: fits
    client, _ = lambda_client(limit=1000, unreserved=100, own=20)
    with pytest.raises(QuotaError, match=r"880 of it reserved by other functions .* expected at most 20\. .* --desired-value 1001$"):
        check_reserved_concurrency(client, FUNCTION, 21, "us-east-1")


def test_nothing_is_read_in_a_preview_or_without_a_reservation(monkeypatch):
    monkeypatch.setattr(boto3, "Session", lambda **_: pytest.fail("no AWS call outside `up`"))
    assert preflight_reserved_concurrency(FUNCTION, None, "us-east-1", None, deploying=True) is None
    assert preflight_reserved_concurrency(FUNCTION, 50, "us-east-1", None, deploying=False) == (
        "the account's Lambda concurrency is read at `pulumi up` only"
    )


def test_at_up_without_credentials_the_check_says_so(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert preflight_reserved_concurrency(FUNCTION, 50, "us-east-1", None, deploying=True) == (
        "no AWS credentials to read the account's Lambda concurrency with; PutFunctionConcurrency will judge"
    )


def test_at_up_the_real_check_runs_with_the_stacks_region(monkeypatch):
    client, _ = lambda_client(limit=10, unreserved=10, own=None)

    class Session:
        def __init__(self, profile_name, region_name):
            assert (profile_name, region_name) == ("team", "eu-west-1")

        def get_credentials(self):
            return object()

        def client(self, service):
            assert service == "lambda"
            return client

    monkeypatch.setattr(boto3, "Session", Session)
    with pytest.raises(QuotaError, match="in eu-west-1 is 10"):
        preflight_reserved_concurrency(FUNCTION, 50, "eu-west-1", "team", deploying=True)


def test_at_up_a_role_that_may_not_read_the_settings_is_reported_not_fatal(monkeypatch):
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_client_error("get_account_settings", "AccessDeniedException", "not authorized to perform: lambda:GetAccountSettings")
    stub.activate()

    class Session:
        def __init__(self, **_):
            pass

        def get_credentials(self):
            return object()

        def client(self, service):
            return client

    monkeypatch.setattr(boto3, "Session", Session)
    assert preflight_reserved_concurrency(FUNCTION, 50, "us-east-1", None, deploying=True) == (
        'cannot read the account\'s Lambda concurrency ("AccessDeniedException": not authorized to perform: '
        "lambda:GetAccountSettings); PutFunctionConcurrency will judge"
    )
