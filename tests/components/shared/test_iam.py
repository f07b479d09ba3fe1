"""components/shared/iam.py: the policy documents every component's roles and resource policies are
built from, read exactly as IAM receives them."""

from __future__ import annotations

import pytest
from pulumi_testkit import document, recording_mocks

from components.shared.iam import assume_role_policy, ecr_pull_statements, policy_document, statement


@pytest.fixture
def mocks():
    yield from recording_mocks()


def test_a_statement_holds_exactly_what_it_was_given():
    assert statement(("s3:GetObject",), ("arn:aws:s3:::b/*",)) == {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::b/*"],
    }
    full = statement(
        ["sns:Publish"],
        ["arn:aws:sns:us-east-1:111111111111:t"],
        sid="Publish",
        effect="Deny",
        conditions={"Bool": {"aws:SecureTransport": "false"}},
        principals={"Service": "events.amazonaws.com"},
    )
    assert full == {
        "Effect": "Deny",
        "Action": ["sns:Publish"],
        "Resource": ["arn:aws:sns:us-east-1:111111111111:t"],
        "Sid": "Publish",
        "Principal": {"Service": "events.amazonaws.com"},
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_a_statement_copies_its_arguments():
    """A caller reusing its lists or dicts for the next statement must not change this one."""
    actions, conditions, principals = ["a:B"], {"Bool": {"k": "v"}}, {"AWS": ["arn:aws:iam::111111111111:root"]}
    made = statement(actions, ["*"], conditions=conditions, principals=principals)
    actions.append("a:C")
    conditions["Null"] = {}
    principals["Service"] = "x"
    assert made["Action"] == ["a:B"] and made["Condition"] == {"Bool": {"k": "v"}}
    assert made["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"]}


def test_a_document_is_versioned_and_keeps_its_statements_in_order(mocks):
    first, second = statement(["a:A"], ["*"], sid="First"), statement(["b:B"], ["*"], sid="Second")
    assert document(policy_document(first, second)) == {"Version": "2012-10-17", "Statement": [first, second]}


def test_a_trust_policy_lets_one_service_assume_the_role(mocks):
    assert document(assume_role_policy("lambda.amazonaws.com")) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    narrowed = document(assume_role_policy("sagemaker.amazonaws.com", {"StringEquals": {"aws:SourceAccount": "111111111111"}}))
    assert narrowed["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_ecr_pull_reads_one_repository_and_logs_in_to_the_registry():
    repository = "arn:aws:ecr:us-east-1:111111111111:repository/model"
    pull, login = ecr_pull_statements(repository, sid="PullModelImage")
    assert pull == {
        "Sid": "PullModelImage",
        "Effect": "Allow",
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        "Resource": [repository],
    }
    # GetAuthorizationToken accepts no resource but "*" (AWS: no resource-level permissions).
    assert login == {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}
