"""Upload → preview → confirm.

``preview`` reads and checks a file and keeps it as an ``ImportBatch`` of the
account's unit (the same bytes are the same batch); ``confirm`` checks the kept
rows again and writes every one of them through the workflow engine, or none.
Neither commits: the caller does, once. A second confirmation of the same batch
(or of the same file uploaded again) writes nothing and says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, selectinload

import workflow
from imports import isolation
from imports.rows import Plan, check, chunks, to_payload
from models import Lecturer, Project, utcnow
from models.import_batch import BatchStatus, ImportBatch, ImportKey

# The note each imported or updated project's history event carries (stored
# text, like a reviewer's reason: in the product's language).
HISTORY_NOTE = "批量导入：%s"


class ImportRefused(Exception):
    """The batch cannot be confirmed; ``message`` says why."""

    def __init__(self, message, plan: Plan | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.plan = plan


class BatchNotFound(LookupError):
    """No batch of this id in the account's unit (as if it did not exist)."""


@dataclass
class Preview:
    batch: ImportBatch
    plan: Plan
    # Set when this very file was already imported: nothing more will be added.
    imported_at: datetime | None = None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ensure_entry(account) -> None:
    if not (account.is_active and account.unit.kind.is_entry):
        raise workflow.NotAllowed(_l("Only an entry unit can add projects."))


def preview(
    session: Session, account, filename: str, data: bytes, limits: isolation.Limits | None = None
) -> Preview:
    """Read and check ``data``; keep it as the unit's pending batch (flushed, not
    committed). Raises ``FileRefused`` for a file that cannot be read. The file is read
    in a child process within ``limits`` (``isolation``)."""
    _ensure_entry(account)
    digest = sha256(data)
    batch = find(session, account, digest)
    if batch is not None and batch.status == BatchStatus.IMPORTED:
        return Preview(batch, check(session, account, batch.payload), batch.imported_at)
    payload = to_payload(isolation.read(filename, data, limits))
    plan = check(session, account, payload)
    return Preview(keep(session, account, filename, digest, payload, batch), plan)


# -- batches: what every import (projects, a report's roster) keeps between its steps -------


def find(session: Session, account, digest: str) -> ImportBatch | None:
    """The account's unit's batch of these bytes (``digest``), if it has one."""
    return session.scalars(
        select(ImportBatch).where(
            ImportBatch.unit_id == account.unit_id, ImportBatch.sha256 == digest
        )
    ).one_or_none()


def keep(
    session: Session,
    account,
    filename: str,
    digest: str,
    payload: dict,
    batch: ImportBatch | None = None,
    report_id: int | None = None,
) -> ImportBatch:
    """``payload`` kept as the unit's pending batch of ``digest`` (``batch``, the one
    ``find`` gave, or a new one; a roster's for its ``report_id``); flushed, not committed."""
    if batch is None:
        batch = ImportBatch(unit_id=account.unit_id, sha256=digest, report_id=report_id)
        session.add(batch)
    batch.account_id = account.id
    batch.filename = (filename or "")[:255]
    batch.payload = payload
    batch.status = BatchStatus.PENDING.value
    batch.created_at = utcnow()
    session.flush()
    return batch


def load(session: Session, account, batch_id, report_id: int | None = None) -> ImportBatch:
    """The batch ``batch_id`` of the account's own unit (of projects, or of the roster of
    report ``report_id``), else ``BatchNotFound``."""
    try:
        key = int(batch_id)
    except (TypeError, ValueError):
        raise BatchNotFound(batch_id) from None
    batch = session.get(ImportBatch, key)
    if batch is None or batch.unit_id != account.unit_id or batch.report_id != report_id:
        raise BatchNotFound(batch_id)
    return batch


def claim(
    session: Session, batch: ImportBatch, added: int | None = None, updated: int | None = None
) -> None:
    """Mark the batch imported with a compare-and-set on its status, so of two
    confirmations racing, one writes and the other is refused (``ImportRefused``). A caller
    that knows what the confirmation will write before it writes gives ``added`` and
    ``updated``: kept in the same UPDATE, instead of a second one (``counted``), for a
    batch whose payload is large (SQLite writes the whole row again at each UPDATE)."""
    values = {"status": BatchStatus.IMPORTED.value, "imported_at": utcnow()}
    if added is not None:
        values |= {"added": added, "updated": updated}
    claimed = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == BatchStatus.PENDING.value)
        .values(values)
        .returning(ImportBatch.id)
    ).scalar_one_or_none()
    if claimed is None:
        raise ImportRefused(_l("This file was already imported: nothing was added again."))


def counted(session: Session, batch: ImportBatch, added: int, updated: int) -> None:
    """What the confirmation of ``batch`` wrote, kept on it for its page."""
    session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id).values(added=added, updated=updated)
    )
    session.expire(batch)


def plan_of(session: Session, account, batch: ImportBatch) -> Plan:
    return check(session, account, batch.payload)


def confirm(session: Session, account, batch_id) -> ImportBatch:
    """Write every row of the batch, or raise and write none (the caller rolls back).

    The batch is claimed first (``claim``), so of two confirmations racing, one writes
    and the other finds it imported."""
    _ensure_entry(account)
    batch = load(session, account, batch_id)
    claim(session, batch)
    plan = check(session, account, batch.payload)
    if not plan.ok:
        raise ImportRefused(
            _l("The file has rows with errors: correct them and upload the file again."), plan
        )
    _write(session, account, plan, HISTORY_NOTE % batch.filename)
    counted(session, batch, plan.added, plan.updated)
    return batch


def _targets(session: Session, plan: Plan) -> dict[int, Project]:
    """The projects the plan's rows update, by id, with their lecturers (one query)."""
    targets = {r.target_id for r in plan.rows if r.target_id is not None}
    if not targets:
        return {}
    return {
        p.id: p
        for p in session.scalars(
            select(Project).where(Project.id.in_(targets)).options(selectinload(Project.lecturers))
        )
    }


def _update(session: Session, account, project, row, values, discipline_id, note) -> None:
    """A row of the file written over the project it names, through the workflow's edit
    (its history and version)."""
    for name, value in values.items():
        setattr(project, name, value)
    project.discipline_id = discipline_id
    # The file lists the lecturers as they are now.
    project.lecturers = [Lecturer(**lecturer) for lecturer in row.lecturers]
    workflow.edit(session, account, project, reason=note)


def _write(session: Session, account, plan: Plan, note: str) -> None:
    existing = _targets(session, plan)
    keys = []
    created = []
    for row in plan.rows:
        values = dict(row.values)
        discipline_id = values.pop("discipline")
        if row.target_id is None:
            project = Project(**values, discipline_id=discipline_id)
            created.append((project, row.lecturers))
        else:
            project = existing[row.target_id]
            _update(session, account, project, row, values, discipline_id, note)
        if row.import_key:
            keys.append((row.import_key, project))
    # All new projects in one go: one flush, one INSERT of their history rows; then
    # their lecturers in one bulk INSERT (thousands of ORM objects fewer to flush).
    workflow.create_many(session, account, [p for p, _ in created], reason=note)
    lecturers = [{**lc, "project_id": p.id} for p, rows in created for lc in rows]
    if lecturers:
        session.execute(insert(Lecturer), lecturers)
    _write_keys(session, account, keys)


def _write_keys(session: Session, account, keys: list) -> None:
    """The import keys of the file's rows (key, project) for the account's unit."""
    keys = [{"unit_id": account.unit_id, "key": k, "project_id": p.id} for k, p in keys]
    # Each key names the project of this file's row: written afresh, so that a key
    # left by a deleted project goes to the new one.
    for chunk in chunks([k["key"] for k in keys]):
        session.execute(
            delete(ImportKey).where(ImportKey.unit_id == account.unit_id, ImportKey.key.in_(chunk))
        )
    if keys:
        session.execute(insert(ImportKey), keys)
