"""The post-conference quality report: the page and the samples as CSV.

``GET /conferences/{id}/quality`` shows per site and interpreter the time in each level, the
scores, medians, worst minutes, disconnections and alerts (server.monitoring.report), with
uPlot charts drawn by static/js/quality_report.js from the JSON embedded in the page.
``GET /conferences/{id}/quality.csv`` streams every sample. Both take ``?from=&to=`` (ISO
8601 instants) to narrow the report; the organisers and technicians of the conference only.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web
from babel.numbers import format_decimal, format_percent

from server.conferences.queries import conference_detail
from server.conferences.timing import field_error, parse_instant
from server.i18n_strings import N_
from server.keys import DATABASE, LOCALE
from server.models import Role
from server.monitoring.report import LEVELS, Minute, QualityReport, Window
from server.monitoring.report import quality_report as build_report
from server.monitoring.report_csv import csv_records
from server.route_table import RouteTable, conference
from server.web import int_param, render

#: CSV rows written to the response at a time.
CSV_BATCH = 500


def report_window(request: web.Request) -> Window:
    """The ``?from=&to=`` of the request; a bad value is a 422 naming its parameter."""
    raw_start, raw_end = request.query.get("from"), request.query.get("to")
    start = parse_instant(raw_start, "from") if raw_start else None
    end = parse_instant(raw_end, "to") if raw_end else None
    if start is not None and end is not None and end <= start:
        raise field_error(
            "to",
            N_("%(end)s is not after from (%(start)s)"),
            "bad_range",
            end=repr(raw_end),
            start=repr(raw_start),
        )
    return Window(start, end)


class Numbers:
    """Numbers in the viewer's language (Babel), for the template."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def decimal(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        pattern = "#,##0." + "#" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """``value`` in percent (50.0 → "50 %" in the viewer's style)."""
        if value is None:
            return "–"
        return format_percent(value / 100, format="#,##0." + "#" * digits + "%", locale=self.locale)

    def millis(self, seconds: float | None) -> str:
        return "–" if seconds is None else self.decimal(seconds * 1000, 0)

    def loss(self, fraction: float | None) -> str:
        return "–" if fraction is None else self.percent(fraction * 100, 2)

    def duration(self, seconds: int) -> str:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def chart_data(report: QualityReport) -> dict[str, dict[str, list[Any]]]:
    """Per subject, the columns uPlot draws: Unix seconds, score, RTT (ms), losses (%)."""

    def column(points: list[Minute], scale: float, name: str) -> list[float | None]:
        values = (getattr(p, name) for p in points)
        return [None if v is None else round(v * scale, 3) for v in values]

    return {
        s.subject: {
            "t": [int(p.at.timestamp()) for p in s.chart],
            "score": [round(p.score, 1) for p in s.chart],
            "rtt": column(s.chart, 1000, "rtt"),
            "up_loss": column(s.chart, 100, "up_loss"),
            "down_loss": column(s.chart, 100, "down_loss"),
        }
        for s in report.subjects
    }


async def quality_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    window = report_window(request)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        report = await build_report(db, conference_id, window)
    query = request.query_string
    return render(
        request,
        "quality_report.html",
        {
            "conference": found,
            "report": report,
            "levels": LEVELS,
            "charts": chart_data(report),
            "numbers": Numbers(request.get(LOCALE, "en")),
            "csv_url": f"/conferences/{conference_id}/quality.csv" + (f"?{query}" if query else ""),
        },
    )


async def quality_csv(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    window = report_window(request)  # before anything is sent: a bad value is still a 422
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="conference-{conference_id}-quality.csv"',
            "Cache-Control": "private, no-store",
        }
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    async with request.app[DATABASE].session() as db:
        await response.prepare(request)
        count = 0
        async for record in csv_records(db, conference_id, window):
            writer.writerow(record)
            count += 1
            if count % CSV_BATCH == 0:
                await response.write(buffer.getvalue().encode())
                buffer.seek(0)
                buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


def add_routes(table: RouteTable) -> None:
    chairs = conference(Role.ORGANISER, Role.TECHNICIAN)
    table.get("/conferences/{conference_id}/quality", quality_page, chairs, name="quality_report")
    table.get("/conferences/{conference_id}/quality.csv", quality_csv, chairs, name="quality_csv")
