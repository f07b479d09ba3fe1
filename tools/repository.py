"""The repository's root folder, the one place the tools derive it from their own location."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
