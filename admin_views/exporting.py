"""Exports of a list: the export button's request, and the background job for a large one.

One function builds the rows of an export: ``ExportMixin.list_query(user, state)``, the
list of ``user`` (its scope) as ``state`` (its sort, search and filters) says. The
request's export calls it with the signed-in account and the state read from the query
string; the background job (``export_job``) is given the account's id, the view's
endpoint and the same query string, loads the account and calls it the same way, so the
file has the rows the list shows. Nothing here reads the request or the login to know
whose list it is, and the job runs with no request at all (on the worker, in a thread, or
synchronously in a thread of its own: ``jobs.submit``).

This module sits below ``admin_views.base`` (whose ``ScopedModelView`` mixes
``ExportMixin`` in) and imports nothing of it; the job pages (``admin_views.jobs``)
import nothing of it either: no import circle (checked by ``make lint``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

from flask import abort, current_app, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_babel import format_decimal, gettext
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

import exports
import jobs
from extensions import db
from models import Job, User

# Ids of an export's list read from the cursor this many at a time.
EXPORT_ID_BATCH = 10_000
# Rows (or ids) a job's server-side cursor hands over at a time.
STREAM_ROWS = 2000


def wants_background(count: int) -> bool:
    limit = int(current_app.config.get("EXPORT_BACKGROUND_ROWS") or 0)
    return bool(limit) and count > limit


class ExportMixin:
    """The export of a scoped model view: exactly its current list, as a file.

    Relies on the view's ``bound_to(user)`` (a copy whose every query is limited to
    ``user``'s scope) and ``list_state_from(args)`` (``admin_views.internals``)."""

    export_types = ("csv", "xlsx")
    # Columns for export, as (attribute or callable, header) pairs.
    export_columns: Sequence[tuple] = ()

    def list_query(self, user, state):
        """``(count, query)`` of the list of ``user`` in ``state`` (sort, search,
        filters), every row, in the list's order: what the export writes, from the request
        or from the job alike."""
        view = self.bound_to(user)
        sort, descending, search, filters = state
        return view.get_list(0, sort, descending, search, filters, execute=False, page_size=0)

    def export_filename(self, export_type: str) -> str:
        # Dated, so a second download the same week does not overwrite the first.
        return exports.dated_filename(str(self.name), export_type)

    def export_rows(self, query) -> Iterable[Sequence]:
        for obj in query:
            yield [
                column(obj) if callable(column) else getattr(obj, column)
                for column, _ in self.export_columns
            ]

    def export_loader(self, user):
        """``load(session, chunk)`` for ``exports.batched_rows``: the objects of a chunk
        of ids within ``user``'s scope."""
        scoped = self.bound_to(user).get_query()
        return lambda session, chunk: scoped.with_session(session).filter(self.model.id.in_(chunk))

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        """The current filtered, searched and sorted list, never more rows than
        ``exports.row_limit`` allows (XLSX has a lower bound than CSV)."""
        if not self.can_export or export_type not in self.export_types:
            abort(404)
        user = self.list_account()
        count, query = self.list_query(user, self.list_state_from(request.args))
        # A background job (above EXPORT_BACKGROUND_ROWS) is bounded by EXPORT_MAX_ROWS
        # only: the XLSX bound keeps a request inside the web worker's timeout.
        in_background = wants_background(count)
        limit = exports.row_limit("csv" if in_background else export_type)
        if limit and count > limit:
            flash(exports.too_many_rows_message(export_type, count, limit), "error")
            return redirect(self.get_url(".index_view", **request.args))
        if in_background:
            return start_export(self, user, export_type, count)
        # The list's ids now, in its order; the rows are read while the file is
        # written, a batch per short transaction of its own (exports.batched_rows),
        # still limited to the scope. The request's transaction ends before the
        # download starts, so no connection waits on the client.
        # Streamed into a compact array (8 bytes an id): reading 100,000 ids as a list
        # of row tuples made the export's memory grow with its size.
        # Core rows, a partition of plain ints at a time: no ORM row per id.
        ids = array("q")
        id_query = query.with_entities(self.model.id).statement
        stream = {"yield_per": EXPORT_ID_BATCH}
        result = db.session.connection().execute(id_query, execution_options=stream)
        for partition in result.scalars().partitions():
            ids.extend(partition)
        load = self.export_loader(user)
        db.session.rollback()
        rows = exports.batched_rows(db.engine, ids, load, self.export_rows)
        headers = [str(header) for _, header in self.export_columns]
        write = exports.csv_response if export_type == "csv" else exports.xlsx_response
        return write(self.export_filename(export_type), headers, rows, max_rows=0)


def start_export(view, user, export_type: str, total: int):
    """Queue the export of the current list (``total`` rows) for ``user`` and send the
    account to the job's page. The job is given the account's id, the view and the
    list's arguments (its sort, search and filters; kept on the job's row for 重新导出),
    not its ids: it builds the list itself and reads the rows streamed. When the job
    cannot run now (Redis down, too large for the web process), the account stays on its
    list with a message."""
    list_args = urlencode(list(request.args.items(multi=True)))
    job = jobs.create(
        db.session,
        user_id=user.id,
        view=view.endpoint,
        kind=export_type,
        filename=view.export_filename(export_type),
        total=total,
        list_args=list_args,
    )
    jobs.purge(db.session)
    db.session.commit()
    job_id, user_id = job.id, user.id
    args = (job_id, user_id, view.endpoint, list_args)
    if jobs.submit(db.engine, job_id, total, export_job, *args) is None:
        flash(
            gettext(
                "Background exports are unavailable at the moment, please try again later;"
                " or narrow the list with a filter to at most %(rows)s rows and export again.",
                rows=current_app.config["EXPORT_FALLBACK_ROWS"],
            ),
            "error",
        )
        return redirect(view.get_url(".index_view", **request.args))
    flash(
        gettext(
            "%(count)s rows: the export runs in the background; download it here when it is done.",
            count=format_decimal(total),
        ),
        "info",
    )
    return redirect(url_for("jobs.status", job_id=job_id))


def _view(endpoint: str):
    return current_app.extensions["admin"][0].panel_views[endpoint]  # admin_views/registry.py


def _reads_objects(view) -> bool:
    """Whether the view exports ORM objects through the stock loader (then the list's own
    query yields them, in one SELECT) rather than rows of a loader of its own."""
    return (
        type(view).export_loader is ExportMixin.export_loader
        and type(view).export_rows is ExportMixin.export_rows
    )


class NoRequestAllowed(RuntimeError):
    """A job must not run inside a request: it would see that request's login."""


class AccountGone(RuntimeError):
    """The job's account was removed or deactivated before the job ran."""


def export_job(job_id: str, user_id: int, endpoint: str, list_args: str) -> None:
    """The job: the list of view ``endpoint`` in the state ``list_args`` (its query
    string: sort, search, filters) as account ``user_id`` sees it, written to the job's
    file. Runs in an application context without a request (the worker's or a thread's).

    There is no client to wait for, so (on PostgreSQL) the rows are read on a connection of
    the job's own, held for the whole export, from a server-side cursor (``yield_per``: a
    few thousand rows in memory at a time, whatever the size): a view exporting ORM objects
    streams its list's query itself, one SELECT; a view with a row loader of its own
    (``export_loader``) streams the list's ids and loads their rows a batch at a time
    (``exports.batched_rows``). Either way the file is the one the request would stream.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.status != jobs.QUEUED:
        return  # failed by the reaper, or removed, before a worker took it
    if has_request_context():
        raise NoRequestAllowed(job_id)
    user = db.session.get(User, user_id)
    if user is None or user.id != job.user_id or not user.is_active:
        jobs.run(db.engine, job_id, _refuse)
        return
    view = _view(endpoint)
    path = jobs.file_path(job)
    kind, filename, total = job.kind, job.filename, job.total
    args = MultiDict(parse_qsl(list_args, keep_blank_values=True))
    _, query = view.list_query(user, view.bound_to(user).list_state_from(args))
    # SQLite (without WAL) lets no one write while a read is open, the job's own
    # progress included: there the ids are read at once (into a compact array) and the
    # rows a batch per short transaction, as in the request.
    streaming = db.engine.dialect.name != "sqlite"
    objects = streaming and _reads_objects(view)
    statement = query.statement if objects else query.with_entities(view.model.id).statement
    load = None if objects else view.export_loader(user)
    headers = [str(header) for _, header in view.export_columns]
    db.session.rollback()

    def work(report) -> None:
        with db.engine.connect() as connection, Session(connection) as session:
            stream = {"yield_per": STREAM_ROWS}
            if objects:
                rows = view.export_rows(session.scalars(statement, execution_options=stream))
            elif streaming:
                ids = connection.execute(statement, execution_options=stream).scalars()
                rows = exports.batched_rows(db.engine, ids, load, view.export_rows)
            else:
                ids = array("q", connection.execute(statement).scalars())
                connection.rollback()
                rows = exports.batched_rows(db.engine, ids, load, view.export_rows)
            rows = jobs.counted(rows, report, total)
            if kind == "csv":
                exports.write_csv(path, headers, rows, max_rows=0)
            else:
                exports.write_xlsx(path, headers, rows, filename=filename, max_rows=0)

    jobs.run(db.engine, job_id, work)


def _refuse(report) -> None:
    raise AccountGone()
