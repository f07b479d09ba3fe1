"""The `promotion` section (on prod): the shipped soak and SLOs parse, defaults fill what is left
out, and a bad value is named with what is allowed."""

from __future__ import annotations

import pytest
from config_testkit import NS, only_problem, parse, shipped

from components.config.promotion import PromotionConfig


def test_shipped_prod_soaks_a_day_with_its_slos_and_dev_has_no_gate():
    promotion = parse(shipped("prod")).promotion
    assert promotion is not None and promotion.soak_hours == 24 and promotion.evidence_max_age_hours == 24
    assert (
        promotion.slo.max_5xx_rate,
        promotion.slo.p99_latency_ms,
        promotion.slo.min_invocations,
        promotion.slo.max_data_quality_violations,
    ) == (
        0.01,
        500,
        100,
        0,
    )
    assert parse(shipped("dev"), "dev").promotion is None


def test_left_out_keys_take_the_defaults():
    config = shipped("prod")
    config[f"{NS}:promotion"] = {"soakHours": 6}
    promotion = parse(config).promotion
    assert promotion == PromotionConfig(soakHours=6) and promotion.slo.max_5xx_rate == 0.01


@pytest.mark.parametrize(
    "override, expected",
    [
        ("promotion.soakHours=0", "promotion.soakHours"),
        ("promotion.slo.max5xxRate=1.5", "promotion.slo.max5xxRate"),
        ("promotion.slo.p99LatencyMs=-1", "promotion.slo.p99LatencyMs"),
        ("promotion.slo.errorRate=0.1", "promotion.slo.errorRate"),
        ("promotion.evidenceMaxAgeHours=168", "more than seven soaks"),
    ],
)
def test_a_bad_value_is_named(override, expected):
    overrides = [override] if "evidenceMaxAgeHours" not in override else ["promotion.soakHours=1", override]
    assert expected in only_problem("prod", *overrides)
