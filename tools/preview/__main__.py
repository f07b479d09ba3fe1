"""`python -m tools.preview`: the offline preview; the real program under Pulumi's mocks, judged by the real policy pack."""

import sys

from tools.offline.analyzer import PolicyPackError
from tools.offline.stack_files import StackFileError
from tools.preview import cli
from tools.preview.result import EXIT_ERROR

try:
    sys.exit(cli.main())
except (StackFileError, PolicyPackError) as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(EXIT_ERROR)
