"""How often an EventBridge schedule expression (`rate(...)` or `cron(...)`) runs in an average month,
for the cost estimate of scheduled pipeline and Model Monitor runs."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Optional

from guardrails import prices

REFERENCE_YEAR = 2026  # schedules are counted over a whole (non-leap) year, then divided by 12
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_CRON = re.compile(r"^cron\((.+)\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")


def _expand(field_text: str, low: int, high: int, names: Mapping[str, int]) -> Optional[set[int]]:
    """The values an EventBridge cron field matches; None for `?`."""
    if field_text == "?":
        return None
    values: set[int] = set()
    for part in field_text.split(","):
        part = part.upper()
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(names.get(a, a)), int(names.get(b, b))
        else:
            start = int(names.get(part, part))
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return values


def runs_per_month(expression: Any) -> Optional[float]:
    """Average runs per month of an EventBridge schedule expression; None when it cannot be read."""
    if not isinstance(expression, str):
        return None
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        every, unit = int(rate[1]), rate[2].rstrip("s")
        per_hour = {"minute": 60 / every, "hour": 1 / every, "day": 1 / (24 * every)}[unit]
        return per_hour * prices.HOURS_PER_MONTH
    cron = _CRON.match(expression)
    if not cron:
        return None
    fields = cron[1].split()
    if len(fields) != 6:
        return None
    minute, hour, dom, month, dow, _year = fields
    try:
        minutes = _expand(minute, 0, 59, {})
        hours = _expand(hour, 0, 23, {})
        months = _expand(month, 1, 12, _MONTHS)
        # L, W and # pick one day a month (last day, nearest weekday, n-th weekday).
        one_a_month = any(c in dom + dow for c in "LW#")
        days = None if one_a_month or dom == "?" else _expand(dom, 1, 31, {})
        weekdays = None if one_a_month or dow == "?" else _expand(dow, 1, 7, _DAYS)
    except ValueError:
        return None
    if not minutes or not hours or not months:
        return None
    matching_days = 0
    for m in months:
        if one_a_month:
            matching_days += 1
            continue
        for d in range(1, calendar.monthrange(REFERENCE_YEAR, m)[1] + 1):
            weekday = (date(REFERENCE_YEAR, m, d).isoweekday() % 7) + 1  # EventBridge: 1 = Sunday
            if (days is not None and d in days) or (weekdays is not None and weekday in weekdays) or (days is None and weekdays is None):
                matching_days += 1
    return matching_days * len(hours) * len(minutes) / 12


def week_minutes(expression: str) -> Optional[list[int]]:
    """Minutes of a week (Sunday 00:00 = 0) at which a cron(...) schedule fires; None if unreadable."""
    cron = _CRON.match(expression.strip())
    if not cron:
        return None
    fields = cron[1].split()
    if len(fields) != 6:
        return None
    try:
        minutes = _expand(fields[0], 0, 59, {})
        hours = _expand(fields[1], 0, 23, {})
        days = _expand(fields[4], 1, 7, _DAYS)
    except ValueError:
        return None
    if minutes is None or hours is None or fields[2] not in ("?", "*") or fields[3] != "*":
        return None  # day-of-month or month schedules are not weekly
    days = days if days is not None else set(range(1, 8))
    return sorted((d - 1) * 24 * 60 + h * 60 + m for d in days for h in hours for m in minutes)
