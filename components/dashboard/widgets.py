"""Typed CloudWatch dashboard widgets that render the documented dashboard body JSON.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html

Widgets are plain frozen dataclasses; values that come from resources (names, ARNs, thresholds)
may be Pulumi outputs, and `dashboard_body` serialises the whole body with `Output.json_dumps`, so
every dimension in the dashboard is the real resource's name, not a copy typed twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Protocol, Sequence, Union

import pulumi
import pulumi_aws as aws

GRID_WIDTH = 24
MAX_METRICS_PER_WIDGET = 100
MAX_ALARMS_PER_WIDGET = 100
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")  # CloudWatch: metric ids start with a lower-case letter

View = Literal["timeSeries", "singleValue", "bar", "pie"]


def _rendering(**props: Any) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


def _check_id(metric_id: Optional[str]) -> None:
    if metric_id is not None and not _ID.match(metric_id):
        raise ValueError(f"metric id {metric_id!r}: must start with a lower-case letter and hold only letters, digits and _")


class MetricSource(Protocol):
    def entries(self) -> pulumi.Input[list[Any]]:
        """The rows this source adds to a widget's `metrics` array."""
        ...


@dataclass(frozen=True)
class Metric:
    """One metric: `[namespace, name, dim1, value1, ..., {rendering}]`."""

    namespace: str
    name: str
    dimensions: Sequence[tuple[str, pulumi.Input[str]]] = ()
    stat: Optional[str] = None
    label: Optional[str] = None
    id: Optional[str] = None
    period: Optional[int] = None
    visible: Optional[bool] = None
    y_axis: Optional[Literal["left", "right"]] = None
    account_id: Optional[pulumi.Input[str]] = None
    """The account whose metric this is, when not the dashboard's own (cross-account observability)."""

    def __post_init__(self) -> None:
        _check_id(self.id)

    def entries(self) -> list[Any]:
        row: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions:
            row += [key, value]
        rendering = _rendering(
            stat=self.stat,
            label=self.label,
            id=self.id,
            period=self.period,
            visible=self.visible,
            yAxis=self.y_axis,
            accountId=self.account_id,
        )
        return [row + [rendering] if rendering else row]


@dataclass(frozen=True)
class Expression:
    """A metric math or SEARCH expression: `[{"expression": ..., "label": ..., "id": ...}]`."""

    expression: pulumi.Input[str]
    label: str
    id: str
    period: Optional[int] = None
    visible: Optional[bool] = None

    def __post_init__(self) -> None:
        _check_id(self.id)

    def entries(self) -> list[Any]:
        return [[_rendering(expression=self.expression, label=self.label, id=self.id, period=self.period, visible=self.visible)]]


def search(
    namespace: str,
    dimension_names: Sequence[str],
    metric_name: str,
    filters: Sequence[tuple[str, pulumi.Input[str]]],
    stat: str,
    period: int,
) -> pulumi.Output[str]:
    """`SEARCH('{ns,dims} MetricName="m" Dim="value"', 'stat', period)`: double quotes make every term an exact match."""
    schema = "{" + ",".join([namespace, *dimension_names]) + "}"
    terms: list[pulumi.Input[str]] = [f'{schema} MetricName="{metric_name}"']
    for key, value in filters:
        terms += [f' {key}="', value, '"']
    return pulumi.Output.concat("SEARCH('", *terms, f"', '{stat}', {period})")


@dataclass(frozen=True)
class AlarmQueries:
    """The metric queries of a metric-math alarm, as the alarm holds them (so the graph and the
    alarm can never disagree). Queries the alarm does not return are hidden, as in the alarm."""

    alarm: aws.cloudwatch.MetricAlarm

    def entries(self) -> pulumi.Output[list[Any]]:
        return self.alarm.metric_queries.apply(lambda queries: [row for query in queries or [] for row in _alarm_query_entries(query)])


def _alarm_query_entries(query: Any) -> list[Any]:
    visible = bool(query.return_data)
    if query.expression:
        return Expression(expression=query.expression, label=query.label or query.id, id=query.id, visible=visible).entries()
    metric = query.metric
    return Metric(
        namespace=metric.namespace,
        name=metric.metric_name,
        dimensions=sorted((metric.dimensions or {}).items()),
        stat=metric.stat,
        label=query.label or None,  # the provider reports an unset label as ""
        id=query.id,
        period=metric.period,
        visible=visible,
    ).entries()


@dataclass(frozen=True)
class HorizontalAnnotation:
    value: pulumi.Input[float]
    label: str
    color: Optional[str] = None
    fill: Optional[Literal["above", "below", "between"]] = None

    def to_json(self) -> dict[str, Any]:
        return _rendering(value=self.value, label=self.label, color=self.color, fill=self.fill)


@dataclass(frozen=True)
class MetricWidget:
    title: str
    metrics: Sequence[MetricSource]
    period: int = 60
    stat: str = "Sum"
    view: View = "timeSeries"
    stacked: bool = False
    annotations: Sequence[HorizontalAnnotation] = ()
    y_min: Optional[float] = 0
    y_label: Optional[str] = None
    set_period_to_time_range: bool = False
    width: int = 12
    height: int = 6

    type = "metric"

    def __post_init__(self) -> None:
        _check_size(self.title, self.width, self.height)
        if not self.metrics:
            raise ValueError(f"widget {self.title!r}: no metrics")
        plain = [m for m in self.metrics if isinstance(m, (Metric, Expression))]
        if len(plain) > MAX_METRICS_PER_WIDGET:
            raise ValueError(f"widget {self.title!r}: {len(plain)} metrics; a widget graphs at most {MAX_METRICS_PER_WIDGET}")
        ids = [m.id for m in plain if m.id is not None]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"widget {self.title!r}: metric ids {duplicates} are used twice")

    def properties(self, region: str) -> dict[str, Any]:
        rows = pulumi.Output.all(*[m.entries() for m in self.metrics]).apply(lambda parts: [row for part in parts for row in part])
        props: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": self.view,
            "stacked": self.stacked,
            "period": self.period,
            "stat": self.stat,
            "metrics": rows,
        }
        if self.annotations:
            props["annotations"] = {"horizontal": [a.to_json() for a in self.annotations]}
        if self.view == "timeSeries" and (self.y_min is not None or self.y_label):
            props["yAxis"] = {"left": _rendering(min=self.y_min, label=self.y_label, showUnits=False if self.y_label else None)}
        if self.set_period_to_time_range:
            props["setPeriodToTimeRange"] = True
        return props


@dataclass(frozen=True)
class AlarmStatusWidget:
    title: str
    alarm_arns: Sequence[pulumi.Input[str]]
    sort_by: Literal["default", "stateUpdatedTimestamp", "timestamp"] = "stateUpdatedTimestamp"
    width: int = 24
    height: int = 4

    type = "alarm"

    def __post_init__(self) -> None:
        _check_size(self.title, self.width, self.height)
        if not 1 <= len(self.alarm_arns) <= MAX_ALARMS_PER_WIDGET:
            raise ValueError(
                f"widget {self.title!r}: {len(self.alarm_arns)} alarms; an alarm status widget shows 1 to {MAX_ALARMS_PER_WIDGET}"
            )

    def properties(self, region: str) -> dict[str, Any]:
        return {"title": self.title, "alarms": list(self.alarm_arns), "sortBy": self.sort_by}


@dataclass(frozen=True)
class TextWidget:
    markdown: pulumi.Input[str]
    width: int = 24
    height: int = 2

    type = "text"

    def __post_init__(self) -> None:
        _check_size("text", self.width, self.height)

    def properties(self, region: str) -> dict[str, Any]:
        return {"markdown": self.markdown}


Widget = Union[MetricWidget, AlarmStatusWidget, TextWidget]


def _check_size(title: str, width: int, height: int) -> None:
    if not 1 <= width <= GRID_WIDTH or not 1 <= height <= 1000:
        raise ValueError(f"widget {title!r}: width {width} / height {height}; allowed 1..{GRID_WIDTH} / 1..1000")


@dataclass
class _Cursor:
    x: int = 0
    y: int = 0
    row_height: int = 0
    placed: list[dict[str, Any]] = field(default_factory=list)


def dashboard_body(widgets: Sequence[Widget], region: str, start: str = "-PT6H") -> pulumi.Output[str]:
    """The DashboardBody JSON: widgets placed left to right in rows of 24 grid units, in order."""
    cursor = _Cursor()
    for widget in widgets:
        if cursor.x + widget.width > GRID_WIDTH:
            cursor.x, cursor.y, cursor.row_height = 0, cursor.y + cursor.row_height, 0
        cursor.placed.append(
            {
                "type": widget.type,
                "x": cursor.x,
                "y": cursor.y,
                "width": widget.width,
                "height": widget.height,
                "properties": widget.properties(region),
            }
        )
        cursor.x += widget.width
        cursor.row_height = max(cursor.row_height, widget.height)
    return pulumi.Output.json_dumps({"start": start, "periodOverride": "inherit", "widgets": cursor.placed})
