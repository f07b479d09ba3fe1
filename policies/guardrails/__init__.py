"""All guardrails of the pack, one module per AWS service area."""

from guardrails import alb, apigateway, codedeploy, cognito, cost, ecr, ecs, iam, kms, lambda_, logs, s3, sagemaker, sns, tags

ALL_POLICIES = [
    *s3.POLICIES,
    *kms.POLICIES,
    *sns.POLICIES,
    *logs.POLICIES,
    *ecr.POLICIES,
    *iam.POLICIES,
    *lambda_.POLICIES,
    *sagemaker.POLICIES,
    *codedeploy.POLICIES,
    *apigateway.POLICIES,
    *alb.POLICIES,
    *ecs.POLICIES,
    *cognito.POLICIES,
    *tags.POLICIES,
    *cost.POLICIES,
]
