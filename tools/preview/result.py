"""One stack's offline preview: its records, the pack's verdict on them and the exit code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tools.offline.analyzer import AnalysisResult
from tools.preview.cost import COST_ESTIMATE_POLICY, COST_POLICY, parse_cost_estimate

EXIT_OK, EXIT_BLOCKED, EXIT_ERROR = 0, 1, 2
_CANT_RUN = re.compile(r"^can't run policy '[^']+' from policy pack '[^']+' during preview: ")


@dataclass
class StackPreview:
    stack: str
    error: Optional[str] = None
    records: dict[str, Any] = field(default_factory=dict)
    analysis: Optional[AnalysisResult] = None
    policy_config_path: Optional[Path] = None

    @property
    def mandatory(self) -> list:
        return [v for v in self.analysis.violations if v.level == "mandatory"] if self.analysis else []

    @property
    def cost_estimate(self) -> Optional[dict[str, Any]]:
        if not self.analysis:
            return None
        texts = [v.message for v in self.analysis.violations if v.policy == COST_POLICY]
        texts += [n.reason for n in self.analysis.not_applicable if n.policy == COST_POLICY and not n.urn]
        # Without the budget policy's statement (disabled, or skipped), the estimate alone.
        texts += [v.message for v in self.analysis.violations if v.policy == COST_ESTIMATE_POLICY]
        return next((e for e in map(parse_cost_estimate, texts) if e is not None), None)

    @property
    def placeholders(self) -> list[str]:
        """Shipped example values still in the stack's config: advisory here, refused by `pulumi up`
        (components/config/placeholders.py), which the program under mocks never runs."""
        if not self.records:
            return []
        from components.config.placeholders import placeholder_problems
        from components.config.stack import ConfigError, parse_stack_config
        from tools.offline.stack_files import engine_config

        try:
            cfg = parse_stack_config(engine_config(self.records["config"]), self.records["project"], self.stack)
        except ConfigError:  # the program already reported it
            return []
        return placeholder_problems(cfg)

    @property
    def judged_only_at_up(self) -> list:
        """Mandatory policies that could not judge a resource in this preview (values unknown until
        the resources they come from exist): pulumi_policy reports them as advisory "can't run"."""
        if not self.analysis:
            return []
        levels = {p.name: p.level for p in self.analysis.policies}
        return [
            v
            for v in self.analysis.violations
            if v.level == "advisory" and levels.get(v.policy) == "mandatory" and _CANT_RUN.match(v.message)
        ]

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_BLOCKED if self.mandatory else EXIT_OK
