"""`python -m tools.promote`: pins a model package version in a stack file (what promote.yml runs)."""

import sys

from tools.promote import cli

sys.exit(cli.main())
