"""Small builders for Grafana dashboard JSON (schema 39), so each board reads as a list of panels.

    stat / timeseries / table / bargauge / text   one panel, its targets and field config
    target(expr, ...)                              one Prometheus query of a panel
    query_variable / datasource_variable           the template variables
    dashboard(uid, title, rows, ...)               the board, with every panel laid out on the grid

Panels carry no position; ``dashboard`` places the rows top to bottom on Grafana's 24-column grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVEL_RANK

Json = dict[str, Any]

DATASOURCE: Json = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24
TAG = "peakwatch"


@dataclass
class Panel:
    """One panel before layout: its JSON without ``id`` and ``gridPos``, and its size."""

    body: Json
    width: int = 12
    height: int = 8


@dataclass
class Row:
    """A collapsible-free row of panels, with an optional heading."""

    panels: list[Panel]
    title: str | None = None
    extra: Json = field(default_factory=dict)


def target(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False, ref: str = ""
) -> Json:
    """One Prometheus query; ``table`` asks Grafana for one row per series (instant tables)."""
    return {
        "datasource": DATASOURCE,
        "refId": ref,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "instant": instant or table,
        "range": not (instant or table),
        "format": "table" if table else "time_series",
    }


def level_mappings() -> list[Json]:
    """Value mappings that show a level number (-1..4) as its Chinese name and warning colour."""
    options = {
        str(rank): {"text": LEVEL_NAMES_ZH[name], "color": LEVEL_COLOURS[name], "index": index}
        for index, (name, rank) in enumerate(LEVEL_RANK.items())
    }
    return [{"type": "value", "options": options}]


def level_thresholds() -> Json:
    """Threshold steps coloured like the warning levels, for level numbers."""
    steps: list[Json] = [{"color": LEVEL_COLOURS["unknown"], "value": None}]
    steps += [
        {"color": LEVEL_COLOURS[name], "value": rank}
        for name, rank in LEVEL_RANK.items()
        if rank >= 0
    ]
    return {"mode": "absolute", "steps": steps}


def warning_thresholds(**floors: float) -> Json:
    """Threshold steps: green below the lowest floor, then each level's colour from its floor.

    ``warning_thresholds(orange=0.3, red=0.5)`` colours 0.3–0.5 orange and 0.5 and up red.
    """
    steps: list[Json] = [{"color": LEVEL_COLOURS["none"], "value": None}]
    for name, value in sorted(floors.items(), key=lambda item: item[1]):
        steps.append({"color": LEVEL_COLOURS[name], "value": value})
    return {"mode": "absolute", "steps": steps}


def _panel(
    kind: str,
    title: str,
    description: str,
    targets: Sequence[Json],
    *,
    unit: str,
    width: int,
    height: int,
    defaults: Json | None,
    options: Json,
    overrides: Sequence[Json] = (),
    links: Sequence[Json] = (),
    transformations: Sequence[Json] = (),
) -> Panel:
    refs = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    body: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [{**t, "refId": t["refId"] or refs[i]} for i, t in enumerate(targets)],
        "fieldConfig": {
            "defaults": {"unit": unit, **(defaults or {})},
            "overrides": list(overrides),
        },
        "options": options,
    }
    if links:
        body["links"] = list(links)
    if transformations:
        body["transformations"] = list(transformations)
    return Panel(body, width, height)


def stat(
    title: str,
    description: str,
    targets: Sequence[Json],
    *,
    unit: str = "none",
    width: int = 4,
    height: int = 4,
    defaults: Json | None = None,
    no_value: str = "",
) -> Panel:
    """A single number (last value), coloured by its thresholds."""
    extra = dict(defaults or {})
    if no_value:
        extra["noValue"] = no_value
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    return _panel(
        "stat",
        title,
        description,
        targets,
        unit=unit,
        width=width,
        height=height,
        defaults=extra,
        options=options,
    )


def timeseries(
    title: str,
    description: str,
    targets: Sequence[Json],
    *,
    unit: str = "none",
    width: int = 12,
    height: int = 8,
    stacked: bool = False,
    defaults: Json | None = None,
    overrides: Sequence[Json] = (),
) -> Panel:
    """Lines over time; ``stacked`` stacks them as areas (parts of a whole)."""
    custom: Json = {"lineWidth": 1, "fillOpacity": 30 if stacked else 10, "showPoints": "never"}
    if stacked:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    options = {
        "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return _panel(
        "timeseries",
        title,
        description,
        targets,
        unit=unit,
        width=width,
        height=height,
        defaults={"custom": custom, **(defaults or {})},
        options=options,
        overrides=overrides,
    )


def table(
    title: str,
    description: str,
    targets: Sequence[Json],
    *,
    unit: str = "none",
    width: int = 12,
    height: int = 10,
    keep: Sequence[str] = (),
    rename: dict[str, str] | None = None,
    overrides: Sequence[Json] = (),
    links: Sequence[Json] = (),
) -> Panel:
    """Instant values as rows; several targets are joined on their labels.

    ``keep`` lists the columns to show in order (labels, or ``Value #A`` for target A's value);
    ``rename`` gives them their headings.
    """
    names = list(keep)
    transformations: list[Json] = [
        {"id": "merge", "options": {}},
        {"id": "filterFieldsByName", "options": {"include": {"names": names}}},
        {
            "id": "organize",
            "options": {
                "excludeByName": {},
                "indexByName": {name: i for i, name in enumerate(names)},
                "renameByName": rename or {},
            },
        },
    ]
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    return _panel(
        "table",
        title,
        description,
        [{**t, "instant": True, "range": False} for t in targets],
        unit=unit,
        width=width,
        height=height,
        defaults=None,
        options=options,
        overrides=overrides,
        links=links,
        transformations=transformations,
    )


def bargauge(
    title: str,
    description: str,
    targets: Sequence[Json],
    *,
    unit: str = "none",
    width: int = 12,
    height: int = 8,
    defaults: Json | None = None,
    links: Sequence[Json] = (),
) -> Panel:
    """Horizontal bars of instant values, one per series (rankings, counts by level)."""
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
        "valueMode": "color",
    }
    return _panel(
        "bargauge",
        title,
        description,
        [{**t, "instant": True, "range": False} for t in targets],
        unit=unit,
        width=width,
        height=height,
        defaults=defaults,
        options=options,
        links=links,
    )


def text(title: str, content: str, *, width: int = 24, height: int = 3) -> Panel:
    """A markdown note (no query)."""
    body: Json = {
        "type": "text",
        "title": title,
        "options": {"mode": "markdown", "content": content},
    }
    return Panel(body, width, height)


def override_by_name(name: str, **properties: Any) -> Json:
    """A field override for the series or column called ``name``."""
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties.items()],
    }


def datasource_variable() -> Json:
    """The Prometheus data source to read, chosen on the board."""
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "数据源",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def query_variable(
    name: str,
    label: str,
    query: str,
    *,
    include_all: bool = False,
    description: str = "",
) -> Json:
    """A variable whose values are ``label_values(...)``, refreshed when the time range changes.

    ``include_all`` adds "All", sent as the regex ``.+`` so panels filter with ``=~"$name"``.
    """
    variable: Json = {
        "type": "query",
        "name": name,
        "label": label,
        "description": description,
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": include_all,
        "current": {},
        "options": [],
        "hide": 0,
        "regex": "",
    }
    if include_all:
        variable["allValue"] = ".+"
    return variable


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    rows: Sequence[Row],
    variables: Sequence[Json] = (),
    refresh: str = "30s",
    time_from: str = "now-6h",
) -> Json:
    """The whole board: panels numbered and placed row by row, links to the other boards."""
    panels: list[Json] = []
    y = 0
    for row in rows:
        if row.title:
            panels.append(
                {
                    "type": "row",
                    "title": row.title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": GRID_COLUMNS, "x": 0, "y": y},
                    "panels": [],
                }
            )
            y += 1
        x, row_height = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_COLUMNS:
                x, y = 0, y + row_height
                row_height = 0
            grid = {"h": panel.height, "w": panel.width, "x": x, "y": y}
            panels.append({**panel.body, "gridPos": grid})
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    for number, placed in enumerate(panels, start=1):
        placed["id"] = number
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "refresh": refresh,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "title": "peakwatch",
                "tags": [TAG],
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
                "targetBlank": False,
                "icon": "external link",
                "tooltip": "",
                "url": "",
            }
        ],
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": panels,
    }
