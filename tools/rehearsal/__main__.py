"""`python -m tools.rehearsal`: the whole system rehearsed on this machine (what `make demo` runs)."""

import sys

from tools.rehearsal import cli

sys.exit(cli.main())
