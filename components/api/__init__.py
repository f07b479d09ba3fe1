"""The prediction API: `POST /predict` on API Gateway, a Lambda alias moved by CodeDeploy canaries."""

from components.api.args import CanaryApiArgs
from components.api.canary_api import ALIAS_NAME, HOOKS, CanaryApi, api_function_name, deployment_group_name, hook_function_name
from components.api.codedeploy_group import codedeploy_application_name
from components.api.http_api import ROUTE_AUTHORIZATION, STAGE_NAME

__all__ = [
    "ALIAS_NAME",
    "CanaryApi",
    "CanaryApiArgs",
    "HOOKS",
    "ROUTE_AUTHORIZATION",
    "STAGE_NAME",
    "api_function_name",
    "codedeploy_application_name",
    "deployment_group_name",
    "hook_function_name",
]
