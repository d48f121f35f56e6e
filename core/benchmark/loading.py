"""Bulk loading for the bench dataset: PostgreSQL's COPY where it is available, bulk_create
elsewhere.

At scale 5 the dataset is about two million rows. bulk_create sends them as multi-row INSERTs
that PostgreSQL parses and plans batch by batch (about 130 microseconds a timeline event);
COPY streams them in one statement per table. Rows are still model instances, so every
field's Python default and database preparation applies exactly as bulk_create would apply it,
and a column added by a later migration needs nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def insert(model: type[Model], objects: Sequence[Model], *, batch_size: int = 2000) -> list:
    """Insert the objects and return them with their primary keys set (as bulk_create does)."""
    objects = list(objects)
    if not objects:
        return objects
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=batch_size)
    _assign_keys(model, objects)
    _copy(model, objects)
    return objects


def _assign_keys(model: type[Model], objects: list[Model]) -> None:
    """Take keys from the table's own sequence, so later inserts by the app never collide."""
    pk = model._meta.pk
    if not pk.get_internal_type().endswith("AutoField"):
        return
    missing = [obj for obj in objects if obj.pk is None]
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(missing)],
        )
        for obj, (key,) in zip(missing, cursor.fetchall(), strict=True):
            obj.pk = key


# Columns whose Python value psycopg writes as is: preparing them through the field costs more
# than the COPY itself. Anything else (JSON, custom fields) goes through get_db_prep_save.
AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


def _column_values(fields, db) -> Callable[[Model], list]:
    getters = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda obj, f=f: f.get_db_prep_save(f.pre_save(obj, True), db))
        elif f.get_internal_type() in AS_IS and not f.choices:
            getters.append(attrgetter(f.attname))
        elif f.get_internal_type() in AS_IS:
            # Choices are str or int enums: write their plain value.
            getters.append(lambda obj, name=f.attname: _plain(getattr(obj, name)))
        else:
            getters.append(lambda obj, f=f: f.get_db_prep_save(getattr(obj, f.attname), db))
    return lambda obj: [get(obj) for get in getters]


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def _copy(model: type[Model], objects: Iterable[Model]) -> None:
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the per-thread proxy
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    values = _column_values(fields, db)
    with db.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for obj in objects:
            copy.write_row(values(obj))
