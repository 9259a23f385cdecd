"""Reading minutes from their JSON form (``Minutes.from_dict``): every field checked by name,
unknown fields refused, so a stored or submitted document that does not fit is named, not
guessed at. The dataclasses' own checks (``document``) run as they are built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from server.i18n_strings import N_
from server.minutes.document import (
    FORMAT,
    MAX_ENTRIES,
    MAX_INTERVALS,
    MAX_ITEMS,
    MAX_LANGUAGES,
    MAX_RECORDS,
    ActionItem,
    Interval,
    Intervention,
    InvalidMinutes,
    ItemMinutes,
    Minutes,
    SiteAttendance,
)


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidMinutes(path, N_("must be an object"))
    return value


def _list(value: Any, path: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidMinutes(path, N_("must be a list"))
    if len(value) > limit:
        raise InvalidMinutes(path, N_("at most %(max)s entries"), max=f"{limit:,}")
    return value


def _time(value: Any, path: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidMinutes(path, N_("must be an ISO 8601 date and time"))
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidMinutes(
            path, N_("%(value)s is not an ISO 8601 date and time"), value=repr(value)
        ) from None
    if parsed.tzinfo is None:
        raise InvalidMinutes(path, N_("must carry its UTC offset"))
    return parsed


def minutes_from(data: Any) -> Minutes:
    top = _obj(data, "$")
    if top.get("format", FORMAT) != FORMAT:
        raise InvalidMinutes(
            "format",
            N_("unknown format %(format)s (known: %(known)s)"),
            format=repr(top.get("format")),
            known=str(FORMAT),
        )
    unknown = set(top) - {
        "format",
        "conference_id",
        "languages",
        "items",
        "attendance",
        "interventions",
    }
    if unknown:
        raise InvalidMinutes(sorted(unknown)[0], N_("unknown field"))
    items = []
    for i, raw in enumerate(_list(top.get("items", []), "items", MAX_ITEMS)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        actions = []
        for j, raw_action in enumerate(
            _list(item.get("actions", []), f"{path}.actions", MAX_ENTRIES)
        ):
            action = _obj(raw_action, f"{path}.actions[{j}]")
            actions.append(
                ActionItem(
                    what=action.get("what", {}),
                    owner=action.get("owner", ""),
                    due=action.get("due"),
                )
            )
        items.append(
            ItemMinutes(
                session_uid=item.get("session_uid"),  # type: ignore[arg-type]
                session_id=item.get("session_id"),
                title=item.get("title", {}),
                discussion=item.get("discussion", {}),
                decisions=tuple(_list(item.get("decisions", []), f"{path}.decisions", MAX_ENTRIES)),
                actions=tuple(actions),
            )
        )
    attendance = []
    for i, raw in enumerate(_list(top.get("attendance", []), "attendance", MAX_RECORDS)):
        path = f"attendance[{i}]"
        row = _obj(raw, path)
        intervals = []
        for j, raw_interval in enumerate(
            _list(row.get("intervals", []), f"{path}.intervals", MAX_INTERVALS)
        ):
            ipath = f"{path}.intervals[{j}]"
            span = _obj(raw_interval, ipath)
            start = _time(span.get("start"), f"{ipath}.start")
            end = _time(span.get("end"), f"{ipath}.end")
            intervals.append(Interval(start, end))
        attendance.append(
            SiteAttendance(
                session_uid=row.get("session_uid"),  # type: ignore[arg-type]
                site_id=row.get("site_id"),  # type: ignore[arg-type]
                intervals=tuple(intervals),
                late=row.get("late", False),
                left_early=row.get("left_early", False),
            )
        )
    interventions = []
    for i, raw in enumerate(_list(top.get("interventions", []), "interventions", MAX_RECORDS)):
        path = f"interventions[{i}]"
        row = _obj(raw, path)
        interventions.append(
            Intervention(
                session_uid=row.get("session_uid"),  # type: ignore[arg-type]
                site_id=row.get("site_id"),  # type: ignore[arg-type]
                start=_time(row.get("start"), f"{path}.start"),
                end=_time(row.get("end"), f"{path}.end"),
            )
        )
    languages = _list(top.get("languages"), "languages", MAX_LANGUAGES)
    return Minutes(
        conference_id=top.get("conference_id"),  # type: ignore[arg-type]
        languages=tuple(languages),
        items=tuple(items),
        attendance=tuple(attendance),
        interventions=tuple(interventions),
    )
