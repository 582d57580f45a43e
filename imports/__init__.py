"""Batch import of projects from Excel or CSV (批量导入): the template, the reader,
the row checks, and the preview → confirm steps.

Layer: above ``workflow`` (every project is created or edited through it), beside
``exports``; the screen is ``admin_views/imports.py``. Nothing here commits.

API::

    imports.template.build(account, discipline_names)     # the XLSX template's bytes
    preview = imports.preview(session, account, filename, data, limits)   # FileRefused
    # (read in a child process: imports.Limits(memory_mb, seconds), see imports.isolation)
    preview.plan.added, preview.plan.updated
    preview.plan.errors        # [RowError(sheet, row, column, value, reason)]
    imports.confirm(session, account, batch_id)   # ImportRefused, BatchNotFound
    imports.rows.checking      # signal: more row checks (none connected today)

A report's roster (学员名单) goes through the same pipeline: ``imports.roster``.
"""

from imports import roster, rows, template
from imports.isolation import Limits
from imports.reader import MAX_ROWS, MAX_UPLOAD_BYTES, FileRefused
from imports.rows import Plan, ProjectRow, RowError, check
from imports.service import (
    BatchNotFound,
    ImportRefused,
    Preview,
    confirm,
    load,
    plan_of,
    preview,
)
from models.import_batch import BatchStatus, ImportBatch, ImportKey

__all__ = [
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "BatchNotFound",
    "BatchStatus",
    "FileRefused",
    "ImportBatch",
    "ImportKey",
    "ImportRefused",
    "Limits",
    "Plan",
    "Preview",
    "ProjectRow",
    "RowError",
    "check",
    "confirm",
    "load",
    "plan_of",
    "preview",
    "roster",
    "rows",
    "template",
]
