"""Offline tools: the preview, the rehearsal, promotion, the docs generator and the dashboard demo."""
