"""Stack config helpers shared by the config tests and the tests of config sections parsed elsewhere."""

from __future__ import annotations

import pytest

from components.config.stack import ConfigError, StackConfig, parse_stack_config
from tools.offline.records import ROOT
from tools.offline.stack_files import apply_overrides, engine_config, stack_config

NS = "sagemaker-mlops"


def shipped(stack: str) -> dict:
    return stack_config(ROOT, stack)


def parse(config: dict, stack: str = "prod") -> StackConfig:
    return parse_stack_config(engine_config(config), project=NS, stack=stack)


def of_records(records) -> StackConfig:
    """The config a recorded program run parsed, with the stacks of this repository that serve its registry."""
    from components.config.registry import referencing_stacks

    stack = records.data["stack"]
    return parse_stack_config(engine_config(records.data["config"]), NS, stack, consumer_stacks=referencing_stacks(ROOT, stack))


def problems_for(stack: str, *overrides: str, drop: tuple[str, ...] = ()) -> list[str]:
    config = apply_overrides(shipped(stack), overrides, namespace=NS)
    for key in drop:
        config.pop(key)
    with pytest.raises(ConfigError) as raised:
        parse(config, stack)
    return raised.value.problems


def only_problem(stack: str, *overrides: str, **kwargs) -> str:
    problems = problems_for(stack, *overrides, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]
