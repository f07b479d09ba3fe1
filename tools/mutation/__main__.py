"""`python -m tools.mutation`: mutate each target in a scratch copy and report what the tests miss."""

import sys

from tools.mutation import cli

sys.exit(cli.main())
