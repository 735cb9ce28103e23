"""Importing the sheets grid workers keep (issue 5), as a pipeline of small steps:

reading (file → rows; limits checked first) → headers (where the header is, its labels) →
mapping (columns → fields) → normalize (cells) →
plan (validation, households, duplicates: the dry run; a second process can read part of a
big sheet's rows, off by default, see plan._read_rows and worker) → apply (one transaction) →
report (the rows in error as an .xlsx to fix and import again). The bulk steps pause Python's
cycle collector (bulk.gc_paused).
"""
from __future__ import annotations

from shequ_desktop.transfer.importing.apply import apply_plan
from shequ_desktop.transfer.importing.plan import DECISIONS, Plan, PlanRow, build_plan
from shequ_desktop.transfer.importing.reading import (
    Table,
    UnreadableFile,
    read_table,
    sheet_names,
)
from shequ_desktop.transfer.importing.report import write_error_report

__all__ = ["DECISIONS", "Plan", "PlanRow", "Table", "UnreadableFile", "apply_plan",
           "build_plan", "read_table", "sheet_names", "write_error_report", "import_file"]


def import_file(ctx, path, target_unit_id, *, sheet=None, on_duplicate="skip",
                dry_run=False, all_or_nothing=False, values=None, flat="address",
                progress=None) -> tuple[Plan, dict]:
    """Read, plan and (unless dry_run) apply: the whole import of a resident list in one call
    (registers.import_register for focus-group, visit and volunteer registers)."""
    plan = build_plan(ctx.conn, read_table(path, sheet), on_duplicate=on_duplicate,
                      values=values, flat=flat, progress=progress)
    if dry_run:
        return plan, plan.counts()
    return plan, apply_plan(ctx, plan, target_unit_id, all_or_nothing=all_or_nothing,
                            progress=progress)
