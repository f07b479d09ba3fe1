"""`python -m tools.docs`: regenerates (or, with --check, verifies) the generated parts of docs/ and the README."""

import sys

from tools.docs import cli

sys.exit(cli.main())
