"""Many rows in one driver call: a statement compiled once per dialect, each value through its column's own
bind processor, no ORM. The ingest hot path writes hundreds of rows a batch, and SQLAlchemy's ORM bulk
paths cost ~30 µs a row there (docs/benchmarks.md, "Where a message's time goes")."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


class BulkStatement:
    """A parameterised INSERT (ON CONFLICT DO NOTHING when asked) or UPDATE by key of `table`'s `columns`,
    run with rows given as tuples in `columns` order (the key last, for an update)."""

    def __init__(self, table: Table, columns: Sequence[str], key: str | None = None,
                 ignore_conflicts: bool = False) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.key = key
        self.ignore_conflicts = ignore_conflicts
        self._compiled: dict[str, tuple[str, bool, list[Callable | None]]] = {}

    def _compile(self, dialect) -> tuple[str, bool, list[Callable | None]]:
        names = [f"p_{c}" for c in self.columns]
        if self.key is None:
            module = {"postgresql": postgresql, "sqlite": sqlite}.get(dialect.name)
            statement = (module.insert(self.table) if module is not None else insert(self.table)).values(
                {c: bindparam(n) for c, n in zip(self.columns, names)})
            if self.ignore_conflicts and module is not None:
                statement = statement.on_conflict_do_nothing()
            order = names
        else:
            statement = update(self.table).where(self.table.c[self.key] == bindparam("p_key")).values(
                {c: bindparam(n) for c, n in zip(self.columns, names)})
            order = names + ["p_key"]
        compiled = statement.compile(dialect=dialect)
        processors = [self.table.c[c].type._cached_bind_processor(dialect)
                      for c in self.columns + ((self.key,) if self.key else ())]
        if compiled.positional:
            # the driver's markers in the order the statement names them
            positions = [order.index(name) for name in compiled.positiontup]
            return str(compiled), True, [processors, positions]  # type: ignore[list-item]
        return str(compiled), False, [processors, order]  # type: ignore[list-item]

    def execute(self, connection: Connection, rows: Iterable[tuple]) -> None:
        dialect = connection.dialect
        entry = self._compiled.get(dialect.name)
        if entry is None:
            entry = self._compiled[dialect.name] = self._compile(dialect)
        sql, positional, (processors, layout) = entry
        active = [(i, p) for i, p in enumerate(processors) if p is not None]
        params = []
        for row in rows:
            values = list(row)
            for i, process in active:
                values[i] = process(values[i])
            params.append(tuple(values[i] for i in layout) if positional else dict(zip(layout, values)))
        if params:
            connection.exec_driver_sql(sql, params)
