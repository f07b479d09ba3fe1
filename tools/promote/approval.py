"""Approval -> dev pull request, by a scheduled poll of the shared registry (docs/promotion.md says why
a poll and not an EventBridge API destination).

    python -m tools.promote --to dev --approved [--pr-body FILE]

The newest `Approved` version of the shared group that is newer than dev's pin is pinned in
Pulumi.dev.yaml; the pull request body carries its metrics, lineage and approver (lineage.py). A
poll is level-triggered: a missed run, or an approval made while the workflow was broken, is picked
up by the next run, and re-running it changes nothing (the branch promote/dev is updated in place).
"""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import BotoCoreError, ClientError

from tools.promote.stack_file import PromoteError


def newest_approved(sagemaker: Any, group: str, after: Optional[int]) -> Optional[str]:
    """The ARN of the highest Approved version of `group` above `after` (None: there is none)."""
    best: tuple[int, str] | None = None
    try:
        for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group, ModelApprovalStatus="Approved"):
            for summary in page.get("ModelPackageSummaryList", []):
                arn = summary["ModelPackageArn"]
                version = int(summary.get("ModelPackageVersion") or arn.rsplit("/", 1)[-1])
                if (after is None or version > after) and (best is None or version > best[0]):
                    best = (version, arn)
    except (ClientError, BotoCoreError) as exc:
        raise PromoteError(f"cannot list the approved versions of {group}: {exc}") from None
    return best[1] if best else None
