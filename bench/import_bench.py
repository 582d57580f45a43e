"""Batch import benchmark (not a test): 5,000 projects with 3 lecturers each, read and
checked for the preview, then confirmed; time and peak Python memory (tracemalloc)
on SQLite and PostgreSQL.

    .venv/bin/python -m bench.import_bench                      # SQLite in a temporary file
    .venv/bin/python -m bench.import_bench --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each backend gets a fresh database (migrated, demo units and accounts seeded). The
file is the real template filled with openpyxl. Time is measured without tracemalloc
(which slows Python down several times), then the same steps run again with a second
file under tracemalloc for the peak; the row count is varied (1,000 / 5,000) to show
how memory grows with it.
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import common
from bench.database import fresh_database

LECTURERS = 3


def build_file(account, disciplines: list[str], rows: int, tag: str) -> bytes:
    import imports

    workbook = load_workbook(io.BytesIO(imports.template.build(account, disciplines)))
    projects, lecturers = workbook["项目"], workbook["授课教师"]
    names = [h.rstrip("*") for h in (c.value for c in projects[1])]
    l_names = [h.rstrip("*") for h in (c.value for c in lecturers[1])]
    start = date(2027, 3, 1)
    for i in range(rows):
        day = start + timedelta(days=i % 300)
        values = {
            "序号": i + 1,
            "导入编号": f"{tag}-{i + 1}",
            "年度": 2027,
            "项目名称": f"{tag} 心血管疾病诊疗新进展学习班 {i + 1}",
            "项目级别": "学（协）会Ⅰ类",
            "学科": disciplines[i % len(disciplines)],
            "项目负责人": "王伟",
            "负责人职称": "主任医师",
            "联系人": "李娜",
            "联系电话": "010-12345678",
            "开始日期": day,
            "结束日期": day + timedelta(days=2),
            "举办地点": "北京市东城区会议中心",
            "举办方式": "面授",
            "教学对象": "本专业中级及以上职称医师",
            "拟招生人数": 100,
            "理论学时": 12,
            "实践学时": 3,
            "学分": 4,
        }
        projects.append([values.get(n) for n in names])
        for j in range(LECTURERS):
            lecturer = {
                "序号": i + 1,
                "姓名": f"教师{j}",
                "职称": "教授",
                "工作单位": "北京协和医院",
                "授课题目": f"专题{j}",
                "学时": 2,
            }
            lecturers.append([lecturer.get(n) for n in l_names])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_once(app, data: bytes, filename: str) -> dict:
    import imports
    from extensions import db
    from models import User

    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "bma_cardio"))
        started = time.perf_counter()
        preview = imports.preview(db.session, account, filename, data)
        db.session.commit()
        previewed = time.perf_counter()
        assert preview.plan.ok, preview.plan.errors[:5]
        batch = imports.confirm(db.session, account, preview.batch.id)
        added = batch.added
        db.session.commit()
        confirmed = time.perf_counter()
        db.session.remove()
    return {"preview": previewed - started, "confirm": confirmed - previewed, "added": added}


def measure(app, rows: int, tag: str) -> dict:
    from extensions import db
    from models import Discipline, User

    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "bma_cardio"))
        names = db.session.scalars(
            select(Discipline.name).where(Discipline.active).order_by(Discipline.sort_order)
        ).all()
        timed_file = build_file(account, list(names), rows, f"{tag}T")
        traced_file = build_file(account, list(names), rows, f"{tag}M")
        db.session.remove()
    times = run_once(app, timed_file, f"{tag}-timed.xlsx")
    tracemalloc.start()
    run_once(app, traced_file, f"{tag}-traced.xlsx")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {**times, "peak_mb": peak / 2**20, "file_mb": len(timed_file) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000, 5_000])
    args = parser.parse_args()
    kind = "postgresql" if args.pg else "sqlite"
    with fresh_database(kind, "import", args.pg) as url:
        app = common.demo_app(url)
        for rows in args.rows:
            result = measure(app, rows, f"R{rows}")
            print(
                f"{make_url(url).get_backend_name():10} rows={rows:5}"
                f" lecturers={rows * LECTURERS:6}"
                f" file={result['file_mb']:.2f} MB  preview={result['preview']:.2f} s"
                f"  confirm={result['confirm']:.2f} s  peak={result['peak_mb']:.0f} MB"
                f"  added={result['added']}"
            )
        from extensions import db
        from models import Project

        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(Project))
            print(f"projects in the database afterwards: {total}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
