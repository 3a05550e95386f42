"""Model instances from a hand-written SELECT, as the ORM would make them (for the few hot reads).

Why: on the invoke path the ORM spent more CPU building and compiling a join (~1–1.5 ms) than PostgreSQL
spent running it. A hot read written out once per process, whose columns and value converters come from
the models' own metadata, gives the same instances for a fraction of that.
"""

from django.db.models import Model


class ModelColumns:
    """The concrete columns of `model` under a table alias, and how to turn their values into an instance.
    Built once per process and database vendor; used with the calling thread's own connection."""

    def __init__(self, connection, model: type[Model], alias: str):
        quote = connection.ops.quote_name
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in fields]
        self.pk_index = list(fields).index(model._meta.pk)
        self.columns = [f"{alias}.{quote(field.column)}" for field in fields]
        # Each column's converters with the column itself: some need it (SQLite's decimals read its field).
        self.converters = [
            (connection.ops.get_db_converters(column) + field.get_db_converters(connection), column)
            for field, column in ((field, field.get_col(alias)) for field in fields)
        ]

    def __len__(self) -> int:
        return len(self.columns)

    def instance(self, values, connection) -> Model | None:
        """The instance of these values (None when the primary key is NULL: an outer join found no row)."""
        values = list(values)
        if values[self.pk_index] is None:
            return None
        for index, (converters, column) in enumerate(self.converters):
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def split(row, parts: list[ModelColumns], connection) -> list:
    """One instance (or None) per part, from consecutive slices of `row`."""
    instances, start = [], 0
    for part in parts:
        instances.append(part.instance(row[start : start + len(part)], connection))
        start += len(part)
    return instances
