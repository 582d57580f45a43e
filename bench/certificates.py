"""Benchmark of certificates (issue 24): issuing a roster's certificates, verifying one by its
code at 10,000 and 10,000,000 certificates, bulk verification, and a roster's ZIP of PDFs.

    .venv/bin/python -m bench.certificates --db sqlite                 # everything, 10k and 10M
    .venv/bin/python -m bench.certificates --db postgresql             # BENCH_PG_URL
    .venv/bin/python -m bench.certificates --sizes 10000 1000000       # a smaller large size
    .venv/bin/python -m bench.certificates --only issue --only zip     # no table fill

Each backend gets a fresh database (``bench.database``: migrated, then the demo seeded, which
has accepted reports and so certificates); everything is measured in one run:

- **issue**: the demo's published pumch project without a report gets one; per repetition it
  is set back by the committee (设为可修改: its certificates revoked, untimed), its roster
  emptied (a DELETE: a benchmark database) and filled with 20 or 2,000 learners through
  ``workflow.execution.import_learners``, reported (untimed); then timed: the committee's
  审核通过 through ``workflow.execution.move_bulk`` and the commit — the engine, every hook
  and ``certificates.issuing.issue`` as the receiver runs it (wrapped here only to count the
  statements and time of its own share). Target: statements equal at 20 and 2,000.
- **verify**: the certificates table is filled to 10,000 and then 10,000,000 rows (``--sizes``)
  by set-based SQL — one INSERT … SELECT per chunk of a million from a series
  (PostgreSQL ``generate_series``, SQLite a recursive CTE), copying an issued certificate and
  varying number, serial, year, name, ID number, status (one in 50 revoked) and the code:
  ``base64url(md5("bench<i>"))[:22]``, random-looking, 22 URL-safe characters like
  ``certificates.numbering.new_code``'s, and computable here, so that the lookups pick random
  existing certificates. PostgreSQL's fill runs with ``session_replication_role = replica``
  (its foreign-key triggers off: every row points at the same report, project and units);
  a fill of more than a million drops the secondary indexes and unique constraints and
  builds them again from their catalog definitions (a bulk load's usual way); then ANALYZE.
  Each size has its own database (the first is the run's; each larger one fresh and seeded),
  so that the sizes are measured in alternation: ``--rounds`` rounds, the order swapped each
  round, so that the shared machine's changing load falls on both alike. Per round and size,
  ``--lookups`` ÷ ``--rounds`` random codes (different ones each time, after 200 of warm-up)
  through the Flask test client: ``GET /verify/<code>`` and ``GET /api/v1/certificates/<code>``
  when the routes exist (``verify.show``, ``public_api.certificate``), with the rate limits
  off (``RATELIMIT_ENABLED = False``); and always the lookup itself, the ORM SELECT by code.
  Wall time and this process's CPU time. Target: median at 10,000,000 ÷ at 10,000 ≤ 1.2.
- **bulk**: per round and size, 5,000 random codes verified by ``POST /verify/bulk`` (a CSV
  upload) when the route exists, and by its lookup alone (``public.verify.statuses_of``),
  against 5,000 primary-key lookups in raw SQL on the driver (one ``SELECT … WHERE id = ?``
  each, the rows fetched). Target ≤ 3×.
- **zip**: ``certificates.pdf.write_certificates`` of 200 and of 2,000 of the 2,000-learner
  roster's certificates (the committee and the organiser each given a seal image first) into
  a temporary file, each count in a child process (a fresh interpreter), after a warm-up of 3:
  wall time, the ZIP's size, the child's peak RSS growth over the write (``VmHWM`` reset
  through ``/proc/self/clear_refs``); with ``--zip-traced`` a second write under tracemalloc
  (slow). Target: memory not growing with the count.

A part whose product code has not landed yet (``public/verify.py``, ``certificates/pdf.py``)
is reported as not measured. Results are appended to ``bench/results/certificates.md``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, select, text

from bench.client import csrf_from
from bench.database import fresh_database, server_version
from bench.datagen import GIVEN, SURNAMES
from bench.measure import SqlRecorder, peak_rss_bytes, percentile, reset_peak_rss, rss_bytes
from bench.roster_import import HOSPITALS, TITLES, id_number

RESULTS = Path(__file__).resolve().parent / "results" / "certificates.md"
ROOT = Path(__file__).resolve().parent.parent
ROSTERS = (20, 2_000)
SIZES = (10_000, 10_000_000)
ZIP_COUNTS = (200, 2_000)
BULK = 5_000
LOOKUPS = 2_000
WARM_UP = 200
CHUNK = 1_000_000
RATIO_TARGET, BULK_TARGET = 1.2, 3.0


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def bench_code(i: int) -> str:
    """The code of the ``i``-th filled certificate (the SQL computes the same)."""
    return base64.urlsafe_b64encode(hashlib.md5(f"bench{i}".encode()).digest()).decode()[:22]


def make_app(url: str):
    """The product app on ``url``, migrated and seeded, with every rate limit off."""
    from flask_migrate import upgrade

    from app import create_app
    from demo import seed
    from extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        upgrade()
        seed(db.session)
        db.session.commit()
    return app


def _has(app, endpoint: str) -> bool:
    return endpoint in app.view_functions


# -- issuing ------------------------------------------------------------------------------------
def _learners(report, size: int, tag: int) -> list[dict]:
    """``size`` cleaned learner rows, each with the report's credits (all attended)."""
    from workflow import execution

    return [
        execution.clean_learner(
            {
                "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i * 7 % len(GIVEN)],
                "id_number": id_number(tag * 10_000 + i),
                "workplace": HOSPITALS[i % len(HOSPITALS)],
                "title": TITLES[i % len(TITLES)],
                "attended": True,
                "credits": report.credits,
            }
        )
        for i in range(size)
    ]


def _open_report(session):
    """The demo's published pumch project without a report gets one (its accounts too)."""
    from bench.roster_import import report_and_owner
    from models import User

    report_id, owner_id = report_and_owner(session)
    committee = session.scalar(select(User).where(User.username == "bjcme"))
    return report_id, owner_id, committee.id


def _prepare(session, report_id: int, owner_id: int, committee_id: int, size: int, tag: int):
    """The report set back if accepted, its roster replaced by ``size`` learners, reported."""
    from models import ExecutionReport, ExecutionState, RosterEntry, User
    from workflow import Action, execution

    owner, committee = session.get(User, owner_id), session.get(User, committee_id)
    report = session.get(ExecutionReport, report_id)
    if report.state == ExecutionState.ACCEPTED:
        execution.move(session, report, Action.UNLOCK, committee, "基准测试")
        session.commit()
    session.execute(delete(RosterEntry).where(RosterEntry.report_id == report_id))
    session.commit()
    report = session.get(ExecutionReport, report_id)
    execution.import_learners(session, owner, report, _learners(report, size, tag), {})
    session.commit()
    execution.move(session, session.get(ExecutionReport, report_id), Action.REPORT, owner)
    session.commit()
    session.expire_all()
    return committee


def measure_issue(app, reps: int, sizes=ROSTERS) -> dict:
    """The committee's 审核通过 of a report with 20 and 2,000 learners: time, statements, and
    ``issuing.issue``'s own share."""
    import certificates.issuing as issuing
    from extensions import db
    from models import Certificate, CertificateStatus
    from workflow import Action, execution

    results = {}
    with app.app_context():
        session = db.session
        report_id, owner_id, committee_id = _open_report(session)
        engine = db.engine
        original = issuing.issue
        spans: list[tuple[float, int, int]] = []
        with SqlRecorder(engine) as recorder:

            def timed(*args, **kwargs):
                count, started = recorder.count, time.perf_counter()
                issued = original(*args, **kwargs)
                spans.append((time.perf_counter() - started, recorder.count - count, issued))
                return issued

            issuing.issue = timed
            try:
                tag = 0
                for size in sizes:
                    runs = []
                    for index in range(-1, reps):
                        tag += 1
                        committee = _prepare(session, report_id, owner_id, committee_id, size, tag)
                        spans.clear()
                        recorder.reset()
                        started = time.perf_counter()
                        execution.move_bulk(session, Action.ACCEPT, committee, [report_id])
                        session.commit()
                        elapsed = time.perf_counter() - started
                        count = recorder.count
                        valid = session.scalar(
                            select(func.count())
                            .select_from(Certificate)
                            .where(
                                Certificate.report_id == report_id,
                                Certificate.status == CertificateStatus.VALID,
                            )
                        )
                        if len(spans) != 1 or valid != spans[0][2] or valid < size:
                            raise RuntimeError(f"审核通过 issued {valid} for {size} learners")
                        if index >= 0:
                            runs.append((elapsed, count, *spans[0]))
                    results[size] = {
                        "issued": runs[0][4],
                        "accept_ms": statistics.median(r[0] for r in runs) * 1000,
                        "accept_statements": sorted({r[1] for r in runs}),
                        "issue_ms": statistics.median(r[2] for r in runs) * 1000,
                        "issue_statements": sorted({r[3] for r in runs}),
                    }
                    log(f"  审核通过 of {size} learners: {results[size]}")
            finally:
                issuing.issue = original
        results["report_id"] = report_id
        session.remove()
    return results


# -- the table at 10,000 and 10,000,000 ---------------------------------------------------------
COPIED = (
    "committee_id",
    "kind",
    "report_id",
    "project_id",
    "owner_unit_id",
    "society_id",
    "workplace",
    "project_name",
    "project_no",
    "level",
    "category",
    "credits",
    "start_date",
    "end_date",
    "organiser",
    "committee_name",
    "title",
    "issued_on",
    "issued_at",
)


def _generated(dialect: str) -> dict[str, str]:
    """column: SQL expression of the series' ``i``."""
    if dialect == "postgresql":
        code = (
            "substr(translate(encode(decode(md5('bench' || i), 'hex'), 'base64'), '+/', '-_'),"
            " 1, 22)"
        )
    else:
        code = "bench_code(i)"
    letters = (SURNAMES, GIVEN, GIVEN)
    name = " || ".join(
        f"substr('{chars}', CAST((i * {mult}) % {len(chars)} AS INTEGER) + 1, 1)"
        for chars, mult in zip(letters, (1, 7, 13), strict=True)
    )
    revoked = "i % 50 = 0"
    return {
        "year": "2000 + i % 20",
        "serial": "i",
        "number": "'BENCH-' || CAST(i AS VARCHAR(12))",
        "code": code,
        "status": f"CASE WHEN {revoked} THEN 'revoked' ELSE 'valid' END",
        "name": name,
        "id_number": "CAST(110105000000000000 + i AS VARCHAR(24))",
        "revoked_at": f"CASE WHEN {revoked} THEN t.issued_at END",
        "revoke_cause": f"CASE WHEN {revoked} THEN 'withdrawn' END",
        "revoke_reason": f"CASE WHEN {revoked} THEN '撤销公布' END",
    }


def fill_engine(url: str):
    """An engine for the fill: SQLite knows ``bench_code`` and writes fast."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite(dbapi_connection, record):
            dbapi_connection.create_function("bench_code", 1, bench_code, deterministic=True)
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA cache_size=-1000000")

    return engine


def _drop_indexes(conn) -> list[str]:
    """PostgreSQL: drop the certificates' unique constraints and secondary indexes (not the
    primary key); the statements that build them again, from the catalog's own definitions."""
    constraints = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'certificates'::regclass AND contype = 'u'"
        )
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = 'certificates'::regclass AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
        )
    ).all()
    for name, _ in constraints:
        conn.execute(text(f'ALTER TABLE certificates DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return [
        *(f'ALTER TABLE certificates ADD CONSTRAINT "{n}" {d}' for n, d in constraints),
        *(d for _, d in indexes),
    ]


def fill(url: str, template_id: int, low: int, high: int) -> float:
    """Certificates ``low`` … ``high`` (inclusive) by INSERT … SELECT, a chunk a statement;
    seconds taken. On PostgreSQL a fill of more than a chunk drops the secondary indexes and
    unique constraints first and builds them again at the end (a bulk load's usual way: the
    same definitions, checked again when built)."""
    engine = fill_engine(url)
    dialect = engine.dialect.name
    generated = _generated(dialect)
    columns = [*COPIED, *generated]
    values = [f"t.{c}" for c in COPIED] + list(generated.values())
    started = time.perf_counter()
    rebuild = []
    if dialect == "postgresql" and high - low >= CHUNK:
        with engine.begin() as conn:
            rebuild = _drop_indexes(conn)
    for lo in range(low, high + 1, CHUNK):
        hi = min(high, lo + CHUNK - 1)
        if dialect == "postgresql":
            prefix, series = "", "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS s(i)"
        else:
            # SQLite's INSERT … SELECT takes its WITH after the column list.
            prefix = (
                "WITH RECURSIVE s(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM s WHERE i < :hi) "
            )
            series = "s"
        sql = (
            f"INSERT INTO certificates ({', '.join(columns)}) {prefix}"
            f"SELECT {', '.join(values)} FROM certificates AS t CROSS JOIN {series} "
            "WHERE t.id = :template"
        )
        with engine.begin() as conn:
            if dialect == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text(sql), {"lo": lo, "hi": hi, "template": template_id})
        log(f"  filled {hi:,} ({time.perf_counter() - started:.0f} s)")
    if rebuild:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for statement in rebuild:
                conn.execute(text(statement))
        log(f"  {len(rebuild)} indexes built again ({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE certificates" if dialect == "postgresql" else "ANALYZE"))
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def _median_us(seconds: list[float], cpu: list[float]) -> dict:
    return {
        "median_us": statistics.median(seconds) * 1e6,
        "p95_us": percentile(seconds, 0.95) * 1e6,
        "cpu_us": statistics.median(cpu) * 1e6,
        "runs": len(seconds),
    }


def measure_lookups(app, filled: int, count: int, rng: random.Random) -> dict:
    """Per lookup, different random codes each: the ORM SELECT by code, and the pages when
    they exist. The samples (seconds, CPU seconds) after ``WARM_UP`` lookups."""
    from extensions import db
    from models import Certificate

    results = {}
    codes = [bench_code(rng.randint(1, filled)) for _ in range(count + WARM_UP)]
    with app.app_context():
        session = db.session
        seconds, cpu = [], []
        statements = set()
        with SqlRecorder(db.engine) as recorder:
            for index, code in enumerate(codes):
                recorder.reset()
                cpu_started, started = time.process_time(), time.perf_counter()
                found = session.execute(
                    select(Certificate).where(Certificate.code == code)
                ).scalar_one()
                elapsed = time.perf_counter() - started
                cpu_used = time.process_time() - cpu_started
                session.expunge(found)
                if index >= WARM_UP:
                    seconds.append(elapsed)
                    cpu.append(cpu_used)
                    statements.add(recorder.count)
        results["SELECT by code (ORM)"] = {
            "seconds": seconds,
            "cpu": cpu,
            "statements": sorted(statements),
        }
        session.remove()
    routes = {
        "GET /verify/<code>": ("verify.show", "/verify/{}"),
        "GET /api/v1/certificates/<code>": ("public_api.certificate", "/api/v1/certificates/{}"),
    }
    client = app.test_client()
    for name, (endpoint, pattern) in routes.items():
        if not _has(app, endpoint):
            results[name] = None
            continue
        seconds, cpu = [], []
        for index, code in enumerate(codes):
            cpu_started, started = time.process_time(), time.perf_counter()
            response = client.get(pattern.format(code))
            response.get_data()
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu_started
            if response.status_code != 200:
                # Not landed in a working state: said so in the results, no figure.
                results[name] = {"error": f"answered {response.status_code} for a known code"}
                break
            if index >= WARM_UP:
                seconds.append(elapsed)
                cpu.append(cpu_used)
        else:
            results[name] = {"seconds": seconds, "cpu": cpu}
    return results


def _raw_pk(engine, ids: list[int]) -> float:
    """5,000 ``SELECT … WHERE id = ?`` on the driver, rows fetched: seconds."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        mark = "%s" if engine.dialect.name == "postgresql" else "?"
        sql = f"SELECT * FROM certificates WHERE id = {mark}"
        started = time.perf_counter()
        for i in ids:
            cursor.execute(sql, (i,))
            cursor.fetchone()
        seconds = time.perf_counter() - started
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return seconds


def _bulk_upload(app, codes: list[str]) -> float | str | None:
    """``POST /verify/bulk`` with a CSV of ``codes``: seconds, or None without the route."""
    if not _has(app, "verify.bulk"):
        return None
    client = app.test_client()
    page = client.get("/verify/bulk").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page)}
    body = ("code\n" + "\n".join(codes) + "\n").encode()
    data["file"] = (io.BytesIO(body), "codes.csv")
    started = time.perf_counter()
    response = client.post("/verify/bulk", data=data, content_type="multipart/form-data")
    answer = response.get_data()
    seconds = time.perf_counter() - started
    if response.status_code != 200 or len(answer.splitlines()) < len(codes):
        # Not landed in a working state: said so in the results, no figure.
        shown = re.findall(r"<(?:h1|p)[^>]*>\s*([^<]+)", answer.decode())
        return f"answered {response.status_code}: {' '.join(shown)[:200] or answer[:100]!r}"
    return seconds


def _statuses_of(app, codes: list[str]) -> float | None:
    """``public.verify.statuses_of`` (the upload's lookup) of ``codes``: seconds, or None."""
    try:
        from public.verify import statuses_of
    except ImportError:
        return None
    from extensions import db

    with app.app_context():
        started = time.perf_counter()
        found = statuses_of(codes)
        seconds = time.perf_counter() - started
        db.session.remove()
    known = sum(code in found for code in set(codes))
    if known != len(set(codes)):
        raise RuntimeError(f"statuses_of found {known} of {len(set(codes))} codes")
    return seconds


def measure_bulk(app, filled: int, reps: int, rng: random.Random) -> dict:
    """Bulk verification of 5,000 codes against 5,000 raw primary-key lookups: the seconds
    of each repetition after a warm-up."""
    from extensions import db
    from models import Certificate

    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            top = conn.scalar(select(func.max(Certificate.id)))
    # The requests outside that app context: each must push its own (its own ``g``, where
    # Flask-WTF keeps the CSRF token).
    figures = {"raw_pk": [], "statuses_of": [], "upload": []}
    for index in range(-1, reps):
        ids = [rng.randint(1, top) for _ in range(BULK)]
        codes = [bench_code(rng.randint(1, filled)) for _ in range(BULK)]
        runs = {
            "raw_pk": _raw_pk(engine, ids),
            "statuses_of": _statuses_of(app, codes),
            "upload": _bulk_upload(app, codes),
        }
        if isinstance(runs["upload"], str):
            figures["error"] = runs["upload"]
            runs["upload"] = None
        if index >= 0:
            for key, value in runs.items():
                if value is not None:
                    figures[key].append(value)
    return figures


def _summary(samples: dict) -> dict:
    """Medians of the merged samples of one size."""
    lookups = {}
    for name, got in samples.get("lookups", {}).items():
        if got is None or "error" in got:
            lookups[name] = got
        else:
            lookups[name] = _median_us(got["seconds"], got["cpu"]) | {
                k: sorted(set(v)) for k, v in got.items() if k == "statements"
            }
    bulk = {
        k: statistics.median(v) * 1000 if v else None
        for k, v in samples.get("bulk", {}).items()
        if k != "error"
    } | {"error": samples.get("bulk", {}).get("error")}
    return ({"lookups": lookups} if lookups else {}) | ({"bulk": bulk} if "bulk" in samples else {})


def _merge(into: dict, got: dict) -> None:
    for name, value in got.items():
        if isinstance(value, list):
            into.setdefault(name, []).extend(value)
        elif isinstance(value, dict):
            if "error" in value:
                into[name] = value
            elif into.get(name) is None or "error" not in into[name]:
                _merge(into.setdefault(name, {}), value)
        elif value is not None or name not in into:
            into[name] = value


def _filled(app, url: str, size: int) -> dict:
    """The database's certificates table filled to ``size`` rows; how."""
    from extensions import db
    from models import Certificate

    with app.app_context():
        with db.engine.connect() as conn:
            existing = conn.scalar(select(func.count()).select_from(Certificate))
            template = conn.scalar(
                select(func.min(Certificate.id)).where(Certificate.status == "valid")
            )
        db.engine.dispose()
    log(f"filling to {size:,} certificates ({existing:,} there)")
    seconds = fill(url, template, 1, size - existing)
    with app.app_context():
        with db.engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(Certificate))
        db.engine.dispose()
    return {"rows": total, "fill_s": seconds, "filled": size - existing}


def measure_table(app, url: str, kind: str, args, only, stack) -> dict:
    """Each size in a database of its own — the first size in this run's, each larger one in a
    fresh, seeded database — filled by set-based SQL; then the lookups and the bulk checks of
    the sizes in alternation, ``--rounds`` rounds (the order swapped each round), so that a
    change of the shared machine's load falls on every size alike."""
    sizes = args.sizes
    apps = [app]
    urls = [url]
    for size in sizes[1:]:
        other = stack.enter_context(fresh_database(kind, f"cert{size}"))
        apps.append(make_app(other))
        urls.append(other)
    tables = {size: _filled(a, u, size) for size, a, u in zip(sizes, apps, urls, strict=True)}
    rng = random.Random(24)
    samples: dict[int, dict] = {size: {} for size in sizes}
    per_round = max(1, args.lookups // args.rounds)
    for index in range(args.rounds):
        order = list(zip(sizes, apps, strict=True))
        for size, a in order if index % 2 == 0 else reversed(order):
            filled = tables[size]["filled"]
            if "verify" in only:
                _merge(samples[size].setdefault("lookups", {}),
                       measure_lookups(a, filled, per_round, rng))  # fmt: skip
            if "bulk" in only:
                _merge(samples[size].setdefault("bulk", {}), measure_bulk(a, filled, 1, rng))
        log(f"  round {index + 1} of {args.rounds} done")
    results = {}
    for size in sizes:
        results[size] = {k: v for k, v in tables[size].items() if k != "filled"}
        results[size] |= _summary(samples[size])
        log(f"  {size:,}: {results[size]}")
    return results


# -- the ZIP of PDFs ------------------------------------------------------------------------------
def zip_child(url: str, report_id: int, count: int, traced: bool) -> dict:
    """In a fresh interpreter: ``write_certificates`` of ``count`` valid certificates of the
    report (after a warm-up of 3: the font parsed, the imports done), timed, with the peak
    RSS growth over the write; with ``traced`` once more under tracemalloc."""
    from app import create_app
    from bench.measure import traced_peak
    from certificates import pdf
    from extensions import db
    from models import Certificate, CertificateStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    seals_used: dict[int, bytes] = {}

    def run(limit: int) -> tuple[float, int, int]:
        with app.app_context():
            session = db.session
            query = (
                select(Certificate)
                .where(
                    Certificate.report_id == report_id,
                    Certificate.status == CertificateStatus.VALID,
                )
                .order_by(Certificate.id)
                .limit(limit)
            )
            # One report: the same two units (organiser, committee) on every certificate.
            first = session.scalars(query.limit(1)).all()
            seals = pdf.seals_for(session, first)
            seals_used.update(seals)
            with tempfile.TemporaryFile() as out:
                started = time.perf_counter()
                written = pdf.write_certificates(
                    session.scalars(query.execution_options(yield_per=100)),
                    out,
                    verify_url_for=lambda code: f"https://cme.example.cn/verify/{code}",
                    seals=seals,
                )
                seconds = time.perf_counter() - started
                size = out.tell()
            session.remove()
        return seconds, written, size

    try:  # the panel's background job writes through this (batched reads, progress)
        from admin_views.certificates import write_zip
        from certificates.pdf import seals_of
    except ImportError:
        write_zip = None

    def run_job(limit: int) -> tuple[float, int, int]:
        """What ``admin_views.certificates.zip_job`` runs, without its Job row: the ids, the
        report's two seals, the committee's scope, ``write_zip`` with a progress callback."""
        from array import array

        from models import ExecutionReport, User
        from permissions.scopes import certificate_visibility

        with app.app_context():
            session = db.session
            report = session.get(ExecutionReport, report_id)
            user = session.scalar(select(User).where(User.username == "bjcme"))
            ids = array(
                "q",
                session.scalars(
                    select(Certificate.id)
                    .where(
                        Certificate.report_id == report_id,
                        Certificate.status == CertificateStatus.VALID,
                    )
                    .order_by(Certificate.id)
                    .limit(limit)
                ),
            )
            seals = seals_of(session, (report.owner_unit_id, report.committee_id))
            seals_used.update(seals)
            scope = certificate_visibility(user)
            session.rollback()
            with tempfile.TemporaryFile() as out:
                started = time.perf_counter()
                written = write_zip(
                    out, ids, scope, seals, "https://cme.example.cn/verify/__code__",
                    lambda n: None,
                )  # fmt: skip
                seconds = time.perf_counter() - started
                size = out.tell()
            session.remove()
        return seconds, written, size

    if write_zip is not None:
        run = run_job
    run(3)
    base = rss_bytes()
    reset_peak_rss()
    seconds, written, size = run(count)
    figures = {
        "count": written,
        "seconds": seconds,
        "zip_mb": size / 2**20,
        "rss_growth_mb": (peak_rss_bytes() - base) / 2**20,
        "seals": len(seals_used),
        "path": "admin_views.certificates.write_zip" if write_zip else "pdf.write_certificates",
    }
    if traced:
        with traced_peak() as heap:
            run(count)
        figures["heap_peak_mb"] = heap["peak"] / 2**20
    return figures


def add_seals(app, report_id: int) -> int:
    """A seal image (PNG, 600 × 600, a red ring and star drawn with Pillow) for the report's
    committee and owner unit, so that every PDF prints two, as a real committee's do."""
    from PIL import Image, ImageDraw

    from extensions import db
    from models import ExecutionReport, Seal

    image = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 580, 580), outline=(200, 16, 16, 255), width=28)
    draw.regular_polygon((300, 300, 110), 5, fill=(200, 16, 16, 255))
    png = io.BytesIO()
    image.save(png, "PNG")
    with app.app_context():
        report = db.session.get(ExecutionReport, report_id)
        units = {report.committee_id, report.owner_unit_id}
        for unit_id in units:
            db.session.merge(Seal(unit_id=unit_id, png=png.getvalue()))
        db.session.commit()
        db.session.remove()
    return len(units)


def measure_zip(url: str, report_id: int, traced: bool, counts=ZIP_COUNTS) -> dict | None:
    """Each count in its own child process; None when ``certificates.pdf`` has not landed."""
    if not (ROOT / "certificates" / "pdf.py").exists():
        return None
    results = {}
    for count in counts:
        out = subprocess.run(
            [sys.executable, "-m", "bench.certificates", "--zip-child", url, str(report_id),
             str(count), "traced" if traced else "-"],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode:
            # Not landed in a working state: said so in the results, no figure.
            last = (out.stderr.strip().splitlines() or ["no output"])[-1]
            return {"error": f"the child failed: {last[:200]}"}
        results[count] = json.loads(out.stdout.strip().splitlines()[-1])
        log(f"  ZIP of {count}: {results[count]}")
    return results


# -- the report -----------------------------------------------------------------------------------
def _commit() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "certificates", "public", "workflow", "models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head + (" + uncommitted changes in the product" if dirty else "")


def _issue_lines(issue: dict) -> list[str]:
    small, large = ROSTERS
    a, b = issue[small], issue[large]
    equal = a["accept_statements"] == b["accept_statements"]
    lines = [
        "审核通过 of one report through `workflow.execution.move_bulk` (the committee), commit"
        " included; `issuing.issue`'s own share inside it:",
        "",
        "| learners | certificates | 审核通过 median | statements | of which issue | issue's"
        " statements |",
        "|---|---|---|---|---|---|",
    ]
    for size in ROSTERS:
        f = issue[size]
        lines.append(
            f"| {size:,} | {f['issued']:,} | {f['accept_ms']:.0f} ms"
            f" | {'/'.join(map(str, f['accept_statements']))} | {f['issue_ms']:.0f} ms"
            f" | {'/'.join(map(str, f['issue_statements']))} |"
        )
    lines += [
        "",
        f"Statements at {small} and {large:,} learners: "
        f"{'equal (met)' if equal else 'NOT equal (not met)'}; time per {large:,}:"
        f" {b['accept_ms']:.0f} ms (issue {b['issue_ms']:.0f} ms).",
        "",
    ]
    return lines


def _table_lines(sizes: list[int], table: dict) -> list[str]:
    small = sizes[0]
    lines = [
        "Certificates table: "
        + ", ".join(
            f"{table[s]['rows']:,} rows (filled in {table[s]['fill_s']:.0f} s)" for s in sizes
        )
        + ".",
        "",
    ]
    if "lookups" in table[small]:
        lines += _lookup_lines(sizes, table)
    if "bulk" in table[small]:
        lines += _bulk_lines(sizes, table)
    return lines


def _lookup_lines(sizes: list[int], table: dict) -> list[str]:
    """One lookup per route: each size's median, p95 and CPU, and the growth's verdict."""
    lines = [
        "| one lookup (random code, median µs; p95; our CPU) | "
        + " | ".join(f"{s:,}" for s in sizes)
        + " | ratio wall / CPU | target ≤ 1.2 |",
        "|---|" + "---|" * len(sizes) + "---|---|",
    ]
    for name, first in table[sizes[0]]["lookups"].items():
        if first is None:
            lines.append(f"| {name} | not measured: the route has not landed |" + "|" * len(sizes))
            continue
        per = [table[s]["lookups"][name] for s in sizes]
        ratio = per[-1]["median_us"] / per[0]["median_us"]
        cpu = per[-1]["cpu_us"] / per[0]["cpu_us"]
        cells = [f"{f['median_us']:.0f} ({f['p95_us']:.0f}; CPU {f['cpu_us']:.0f})" for f in per]
        verdict = "met" if ratio <= RATIO_TARGET else "NOT met"
        if verdict != "met" and cpu <= RATIO_TARGET:
            verdict = "met on CPU only"
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f} / {cpu:.2f} | {verdict} |"
        )
    lines.append("")
    return lines


def _bulk_lines(sizes: list[int], table: dict) -> list[str]:
    """The bulk verification's table (upload, statuses_of, raw lookups) and its ratios."""
    lines = [
        f"| {BULK:,} codes (median ms) | " + " | ".join(f"{s:,}" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    names = {
        "upload": "POST /verify/bulk (CSV upload)",
        "statuses_of": "public.verify.statuses_of (the upload's lookup, alone)",
        "raw_pk": f"{BULK:,} × SELECT … WHERE id = ? (raw SQL, the reference)",
    }
    for key, name in names.items():
        cells = [
            "not measured" if table[s]["bulk"][key] is None else f"{table[s]['bulk'][key]:.0f}"
            for s in sizes
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for s in sizes:
        lines += _bulk_ratios(s, table[s]["bulk"])
    lines.append("")
    return lines


def _bulk_ratios(size: int, bulk: dict) -> list[str]:
    """At one size: the upload's and statuses_of's time over the raw lookups'."""
    if bulk.get("error"):
        lines = [f"\nAt {size:,}: `POST /verify/bulk` not measured: {bulk['error']}."]
    elif bulk["upload"] is not None:
        ratio = bulk["upload"] / bulk["raw_pk"]
        verdict = "met" if ratio <= BULK_TARGET else "NOT met"
        lines = [f"\nAt {size:,}: upload ÷ raw lookups {ratio:.2f} (≤ 3: {verdict})."]
    else:
        lines = []
    if bulk.get("statuses_of") is not None:
        ratio = bulk["statuses_of"] / bulk["raw_pk"]
        lines.append(f"\nAt {size:,}: statuses_of ÷ raw lookups {ratio:.2f}.")
    else:
        lines.append(f"\nAt {size:,}: `POST /verify/bulk` not measured (it has not landed).")
    return lines


def _zip_lines(zipped: dict | None) -> list[str]:
    if zipped is None:
        return ["ZIP of PDFs: not measured (`certificates/pdf.py` has not landed).", ""]
    if "error" in zipped:
        return [f"ZIP of PDFs: not measured ({zipped['error']}).", ""]
    paths = {f.get("path", "pdf.write_certificates") for f in zipped.values()}
    lines = [
        f"The ZIP through `{'`, `'.join(sorted(paths))}` into a temporary file, each count in a"
        " child process (`admin_views.certificates.write_zip` is what the panel's background"
        " job runs: batched reads, progress, then `certificates.pdf.write_certificates`):",
        "",
        "| certificates | time | per certificate | ZIP | peak RSS growth | Python heap peak |",
        "|---|---|---|---|---|---|",
    ]
    for f in zipped.values():
        heap = f"{f['heap_peak_mb']:.1f} MB" if "heap_peak_mb" in f else "(not traced)"
        lines.append(
            f"| {f['count']:,} | {f['seconds']:.1f} s | {f['seconds'] / f['count'] * 1000:.0f} ms"
            f" | {f['zip_mb']:.1f} MB | {f['rss_growth_mb']:.1f} MB | {heap} |"
        )
    seals = {f.get("seals") for f in zipped.values()}
    lines.append(f"\nSeals printed on each certificate: {'/'.join(map(str, seals))}.")
    small, large = zipped.values()
    grows = large["rss_growth_mb"] - small["rss_growth_mb"]
    lines += [
        "",
        f"Peak RSS growth {small['rss_growth_mb']:.1f} MB at {small['count']:,} and"
        f" {large['rss_growth_mb']:.1f} MB at {large['count']:,} ({grows:+.1f} MB: zipfile"
        " keeps a ZipInfo per file for the central directory it writes at the end).",
    ]
    return [*lines, ""]


def markdown(kind: str, version: str, figures: dict, args, argv) -> str:
    load = os.getloadavg()
    lines = [
        f"## {kind} {version}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, at {_commit()}",
        "",
        f"- command: `.venv/bin/python -m bench.certificates {' '.join(argv)}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        f"- 审核通过: {args.reps} repetitions after one warm-up; lookups and bulk checks:"
        f" {args.rounds} rounds alternating the sizes (each size in its own database), per"
        f" round and size {max(1, args.lookups // args.rounds):,} lookups of each kind after"
        f" {WARM_UP} of warm-up and one bulk check after one of warm-up; medians",
        "",
    ]
    if "issue" in figures:
        lines += _issue_lines(figures["issue"])
    if "table" in figures:
        lines += _table_lines(args.sizes, figures["table"])
    if "zip" in figures:
        lines += _zip_lines(figures["zip"])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--zip-child"]:
        print(json.dumps(zip_child(argv[1], int(argv[2]), int(argv[3]), argv[4] == "traced")))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--lookups", type=int, default=LOOKUPS, help="per size and route")
    parser.add_argument("--reps", type=int, default=3, help="审核通过 repetitions")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds of lookups and bulk checks, sizes alternating"
    )
    parser.add_argument("--only", choices=["issue", "zip", "verify", "bulk"], action="append")
    parser.add_argument("--zip-counts", type=int, nargs=2, default=list(ZIP_COUNTS))
    parser.add_argument(
        "--zip-traced", action="store_true", help="the ZIP once more under tracemalloc (slow)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="the Markdown appended to")
    args = parser.parse_args(argv)
    only = set(args.only or ["issue", "zip", "verify", "bulk"])
    figures = {}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database(args.db, "cert"))
        app = make_app(url)
        from extensions import db

        with app.app_context():
            version = server_version(db.engine)
            db.engine.dispose()
        if only & {"issue", "zip"}:
            log(f"{args.db} {version}: issuing")
            figures["issue"] = measure_issue(app, args.reps)
        if "zip" in only:
            log("ZIP of PDFs")
            report_id = figures["issue"]["report_id"]
            if (ROOT / "certificates" / "pdf.py").exists():
                add_seals(app, report_id)
            figures["zip"] = measure_zip(url, report_id, args.zip_traced, args.zip_counts)
        if only & {"verify", "bulk"}:
            figures["table"] = measure_table(app, url, args.db, args, only, stack)
        with app.app_context():
            db.engine.dispose()
    if "issue" not in only:
        figures.pop("issue", None)
    report = markdown(args.db, version, figures, args, argv)
    header = (
        ""
        if args.out.exists()
        else "# Certificates: issuing, verifying at two sizes, bulk, ZIP (issue 24)\n\n"
        "See bench/certificates.py.\n\n"
    )
    with args.out.open("a", encoding="utf-8") as f:
        f.write(header + report + "\n")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
