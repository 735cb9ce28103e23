"""Starting a database: its first community (and optionally the street above it)."""
from __future__ import annotations

from shequ_desktop.core.context import Context, Result
from shequ_desktop.places import grid


def is_empty(ctx: Context) -> bool:
    return ctx.conn.execute("SELECT count(*) FROM grid_units").fetchone()[0] == 0


def init_community(ctx: Context, name: str, street: str | None = None) -> Result:
    """The first community of an empty database, under its street when one is named."""
    with ctx.transaction():
        parent = grid.create_unit(ctx, None, "street", street).id if street else None
        return grid.create_unit(ctx, parent, "community", name)
