"""botocore clients for the hooks, one botocore session per container.

Timeouts are explicit so that no call can outlive the hook's own Lambda timeout: a hook that is
killed by its timeout reports nothing, and CodeDeploy would then wait up to an hour for it.
"""

from __future__ import annotations

import os
from typing import Any

_session: Any = None


def make_client(service: str, *, read_timeout: float = 10.0, attempts: int = 3) -> Any:
    global _session
    import botocore.session
    from botocore.config import Config

    if _session is None:
        _session = botocore.session.get_session()
    config = Config(
        connect_timeout=5,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return _session.create_client(service, region_name=os.environ.get("AWS_REGION") or None, config=config)
