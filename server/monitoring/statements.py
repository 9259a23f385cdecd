"""``concord_db_statements_total``: the SQL statements this node has sent to its database.

A cluster's nodes share one PostgreSQL; what each adds to it is the first thing an operator
sizing the database asks (docs/scaling.md). Counted as the driver executes them (SQLAlchemy's
``before_cursor_execute``: an ``executemany`` is one), from the app's start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class StatementCount(Collector):
    """Counts the statements of one engine; ``close()`` stops counting, safe to call twice."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self._engine = engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._executed)

    def _executed(self, *args: Any) -> None:
        self.count += 1

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "concord_db_statements", "SQL statements this node has sent to its database"
        )
        family.add_metric([], self.count)
        yield family

    def close(self) -> None:
        if event.contains(self._engine, "before_cursor_execute", self._executed):
            event.remove(self._engine, "before_cursor_execute", self._executed)
