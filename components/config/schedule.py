"""EventBridge schedule expressions, checked by the rules AWS states for scheduled rules
("Schedule expressions for rules", EventBridge user guide): `cron(...)` with six fields, each within
its range and wildcards, `?` in exactly one of day-of-month and day-of-week; `rate(N unit)` with a
positive N and the singular unit for 1, the plural otherwise. PutRule refuses anything else, which
a preview would not notice."""

from __future__ import annotations

import calendar
import re
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, Field

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class CronField(NamedTuple):
    name: str
    low: int
    high: int
    wildcards: str
    names: dict[str, int]


# The guide's table: field, values, wildcards.
CRON_FIELDS = (
    CronField("minutes", 0, 59, ",-*/", {}),
    CronField("hours", 0, 23, ",-*/", {}),
    CronField("day-of-month", 1, 31, ",-*?/LW", {}),
    CronField("month", 1, 12, ",-*/", _MONTHS),
    CronField("day-of-week", 1, 7, ",-*?L#", _WEEKDAYS),
    CronField("year", 1970, 2199, ",-*/", {}),
)
_RATE = re.compile(r"^rate\((?P<value>\S+) (?P<unit>\S+)\)$")
_CRON = re.compile(r"^cron\((?P<fields>.*)\)$")
RATE_UNITS = ("minute", "hour", "day")


def _value(text: str, field: CronField) -> int:
    number = field.names.get(text.upper()) if field.names else None
    if number is None:
        if not text.isdigit():
            raise ValueError(f"{field.name} value {text!r} is not a number{' or a name' if field.names else ''}")
        number = int(text)
    if not field.low <= number <= field.high:
        raise ValueError(f"{field.name} value {text} is outside {field.low}-{field.high}")
    return number


def _item(item: str, field: CronField) -> None:
    """One comma-separated item of a field: *, a value, a range, a step, or L/W/# where allowed."""
    if item == "*":
        return
    if field.name == "day-of-month" and (item in ("L", "LW") or re.fullmatch(r"\d+W", item)):
        if item.endswith("W") and item != "LW":
            _value(item[:-1], field)
        return
    if field.name == "day-of-week":
        if item == "L":
            return
        if re.fullmatch(r"\w+L", item):
            _value(item[:-1], field)
            return
        if "#" in item:
            day, _, nth = item.partition("#")
            _value(day, field)
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                raise ValueError(f"day-of-week {item!r}: the n-th weekday after # must be 1-5")
            return
    base, slash, step = item.partition("/")
    if slash:
        if "/" not in field.wildcards:
            raise ValueError(f"{field.name} does not take / (allowed: {field.wildcards})")
        if not (step.isdigit() and int(step) >= 1):
            raise ValueError(f"{field.name} step {step!r} is not a positive number")
    if base == "*" and slash:
        return
    low, dash, high = base.partition("-")
    if dash:
        _value(low, field), _value(high, field)
    else:
        _value(base, field)


def _field(text: str, field: CronField) -> None:
    if text == "?":
        if "?" not in field.wildcards:
            raise ValueError(f"{field.name} does not take ? (only day-of-month and day-of-week do)")
        return
    unknown = sorted({c for c in text if not c.isalnum() and c not in field.wildcards})
    if unknown:
        raise ValueError(f"{field.name} {text!r} uses {''.join(unknown)}; allowed wildcards: {' '.join(field.wildcards)}")
    items = text.split(",")
    if "#" in text and len(items) > 1:
        raise ValueError(f"day-of-week {text!r}: with # the field holds one expression only")
    for item in items:
        if not item:
            raise ValueError(f"{field.name} {text!r} has an empty item")
        _item(item, field)


def check_schedule(expression: str) -> str:
    """`expression` if EventBridge accepts it as a rule's schedule; ValueError naming the rule it breaks."""
    rate, cron = _RATE.match(expression), _CRON.match(expression)
    if rate:
        value, unit = rate["value"], rate["unit"]
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"rate value {value!r} is not a positive whole number; expected e.g. rate(1 day) or rate(12 hours)")
        singular = unit.rstrip("s") if unit.endswith("s") else unit
        if singular not in RATE_UNITS:
            raise ValueError(f"rate unit {unit!r} is not one of minute(s), hour(s), day(s)")
        wanted = singular if int(value) == 1 else f"{singular}s"
        if unit != wanted:
            raise ValueError(
                f"rate({value} {unit}): the unit is {'singular' if int(value) == 1 else 'plural'} for {value}; expected rate({value} {wanted})"
            )
        return expression
    if cron:
        fields = cron["fields"].split(" ")
        if len(fields) != len(CRON_FIELDS):
            raise ValueError(
                f"cron has {len(fields)} fields; expected six separated by single spaces: minutes hours day-of-month month day-of-week year"
            )
        for text, field in zip(fields, CRON_FIELDS):
            _field(text, field)
        dom, dow = fields[2], fields[4]
        if (dom == "?") == (dow == "?"):
            raise ValueError(
                "cron needs ? in exactly one of day-of-month and day-of-week "
                f"(got {dom!r} and {dow!r}); expected e.g. cron(0 3 1 * ? *) for the 1st of each month, cron(0 3 ? * MON *) for Mondays"
            )
        return expression
    raise ValueError("not a schedule expression; expected cron(minutes hours day-of-month month day-of-week year) or rate(N unit)")


ScheduleExpression = Annotated[
    str,
    AfterValidator(check_schedule),
    Field(description="an EventBridge expression: cron(min hour dom month dow year) or rate(N unit)"),
]
