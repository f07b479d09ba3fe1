"""`python -m tools.dashboard_demo`: the Streamlit dashboard on moto-backed demo data (what `make dashboard` runs)."""

from tools.dashboard_demo import cli

raise SystemExit(cli.main())
