"""What the data sources (invokes) the program calls answer offline: the account, partition,
Region, zones, the ELB log-delivery account, an ECR token, SSM parameters."""

from __future__ import annotations

from typing import Any, Callable

from pulumi.runtime.mocks import MockCallArgs

_ELB_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194", "eu-west-1": "156460612806"}


def answer_invoke(args: MockCallArgs, default_region: str, account_id: str) -> dict[str, Any]:
    """The invoke's result as AWS would return it for `account_id`; {} for an invoke not answered here."""
    region = args.args.get("region") or default_region
    answers: dict[str, Callable[[], dict[str, Any]]] = {
        "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
            "accountId": account_id,
            "arn": f"arn:aws:sts::{account_id}:assumed-role/offline-preview/session",
            "userId": "AROAOFFLINEPREVIEW:session",
            "id": account_id,
        },
        "aws:index/getPartition:getPartition": lambda: {
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
            "id": "aws",
        },
        "aws:index/getRegion:getRegion": lambda: {
            "name": region,
            "region": region,
            "id": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
        },
        "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
            "names": [f"{region}{s}" for s in "abcdef"],
            "zoneIds": [f"use1-az{i}" for i in range(1, 7)],
            "id": region,
        },
        # The Elastic Load Balancing account that writes access logs in Regions opened before
        # August 2022 (us-east-1's is documented as 127311923021).
        "aws:elb/getServiceAccount:getServiceAccount": lambda: {
            "arn": f"arn:aws:iam::{_ELB_ACCOUNTS.get(region, '000000000000')}:root",
            "id": _ELB_ACCOUNTS.get(region, "000000000000"),
        },
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda: {
            "authorizationToken": "QVdTOm9mZmxpbmU=",
            "userName": "AWS",
            "password": "offline",
            "proxyEndpoint": f"https://{account_id}.dkr.ecr.{region}.amazonaws.com",
            "expiresAt": "2099-01-01T00:00:00Z",
            "id": region,
        },
        "aws:ssm/getParameter:getParameter": lambda: _ssm_parameter(args.args.get("name", ""), region, account_id),
    }
    answer = answers.get(args.token)
    return answer() if answer else {}


def _ssm_parameter(name: str, region: str, account_id: str) -> dict[str, Any]:
    """AWS's public Powertools parameters hold a layer ARN; anything else gets a placeholder value."""
    value = f"offline-value-of-{name}"
    parts = name.split("/")  # /aws/service/powertools/python/<arch>/<runtime>/<version>
    if name.startswith("/aws/service/powertools/python/") and len(parts) == 8:
        runtime = parts[6].replace(".", "")
        value = f"arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{runtime}-{parts[5]}:7"
    return {
        "name": name,
        "type": "String",
        "value": value,
        "insecureValue": value,
        "version": 1,
        "arn": f"arn:aws:ssm:{region}:{account_id}:parameter{name}",
        "id": name,
    }
