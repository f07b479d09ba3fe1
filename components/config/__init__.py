"""The stack configuration: Pulumi.<stack>.yaml parsed and checked before anything is declared."""

from components.config.placeholders import check_placeholders, is_deploying
from components.config.quota import QuotaError, preflight_reserved_concurrency
from components.config.stack import ConfigError, StackConfig, load_stack_config

__all__ = [
    "ConfigError",
    "QuotaError",
    "StackConfig",
    "check_placeholders",
    "is_deploying",
    "load_stack_config",
    "preflight_reserved_concurrency",
]
