"""On-demand prices, us-east-1, in USD, as read on PRICES_READ.

Sources: the AWS pricing pages for SageMaker AI, Fargate, Elastic Load Balancing, VPC (NAT gateway,
public IPv4, PrivateLink), KMS, CloudWatch and Secrets Manager, cross-checked against published
transcriptions of the AWS Price List API. SageMaker bills real-time inference (hosting) instances
at a higher rate than the same instance type for training and processing jobs; both tables are
kept. Update the table and PRICES_READ together; the cost guardrail names the date in every report.
"""

from __future__ import annotations

PRICES_READ = "2026-11-23"
PRICE_REGION = "us-east-1"
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates (8760 h / 12)

# SageMaker real-time inference, per instance-hour.
SAGEMAKER_HOSTING_HOUR = {
    "ml.t2.medium": 0.065,
    "ml.t2.large": 0.130,
    "ml.t3.medium": 0.058,
    "ml.t3.large": 0.117,
    "ml.m5.large": 0.134,
    "ml.m5.xlarge": 0.269,
    "ml.m5.2xlarge": 0.538,
    "ml.m5.4xlarge": 1.075,
    "ml.c5.large": 0.119,
    "ml.c5.xlarge": 0.238,
    "ml.c5.2xlarge": 0.476,
    "ml.c5.4xlarge": 0.952,
    "ml.g4dn.xlarge": 0.736,
    "ml.g5.xlarge": 1.408,
}
# SageMaker training, processing (incl. Model Monitor and pipeline steps) and batch transform, per instance-hour.
SAGEMAKER_JOB_HOUR = {
    "ml.t3.medium": 0.050,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.230,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.large": 0.102,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.736,
}
# Fargate Linux, per vCPU-hour and per GB-hour.
FARGATE_VCPU_HOUR = {"X86_64": 0.04048, "ARM64": 0.03238}
FARGATE_GB_HOUR = {"X86_64": 0.004445, "ARM64": 0.00356}
# Elastic Load Balancing: per load balancer-hour and per capacity unit-hour.
ALB_HOUR = 0.0225
ALB_LCU_HOUR = 0.008
NLB_HOUR = 0.0225
NLB_LCU_HOUR = 0.006
# A low-traffic internal tool (the dashboard) stays within one LCU (25 new connections/s,
# 3,000 active connections, 1 GB/h); the estimate bills one LCU around the clock.
ASSUMED_LCU = 1
NAT_GATEWAY_HOUR = 0.045
PUBLIC_IPV4_HOUR = 0.005  # every public IPv4 address: Elastic IPs, internet-facing load balancer nodes
INTERFACE_ENDPOINT_AZ_HOUR = 0.01
KMS_KEY_MONTH = 1.00
CLOUDWATCH_DASHBOARD_MONTH = 3.00
CLOUDWATCH_ALARM_METRIC_MONTH = 0.10  # standard resolution, per metric an alarm (or metric-math alarm) reads
CLOUDWATCH_HIGH_RES_ALARM_METRIC_MONTH = 0.30  # period under 60 s
CLOUDWATCH_COMPOSITE_ALARM_MONTH = 0.50
SECRET_MONTH = 0.40

# Charges that depend on traffic or data volume, which a deployment plan does not show.
USAGE_BASED = (
    "SageMaker serverless inference and endpoint requests",
    "API Gateway requests",
    "Lambda invocations",
    "S3 storage and requests",
    "data transfer and NAT data processing",
    "CloudWatch Logs ingestion and storage",
    "ECR storage",
    "SQS/SNS/EventBridge requests",
    "Cognito monthly active users",
    "KMS requests",
)
