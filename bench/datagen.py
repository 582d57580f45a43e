"""A realistic benchmark data set, built quickly with bulk Core inserts.

Shape (the full size): 1 committee, 30 societies with 1,500 branches, 500 issuers, 4,000
accounts, and N projects over ten years, each with 3 lecturers and the events of the path
that led to its state. States are written directly here, which only a benchmark database may
do: the product changes a state only through ``workflow``.

Every year holds exactly N/20 published projects (so "year Y + published" is an export of
N/20 rows and "published" one of N/2). The other half waits or was left as a draft, and it
is skewed the way a real tree is: most of it belongs to the last two years (the queues hold
this year's and last year's filings; older years are almost all published), split into
drafts (40 %), returned (20 %), at the society (20 %) and at the committee (20 %); issuers,
who have no society, hold "at the committee" instead of "at the society".

Owners are skewed too. The units the benchmark logs in as are busy ones, and at every size
each of their pages compared between the two sizes fills a page of 50 (issue 22, item 11):
the branch (the first branch of the first society) holds ``DEMO_ROWS`` drafts of the filtered
year and ``DEMO_ROWS`` published projects, its society's other branches ``DEMO_ROWS``
projects waiting at the society in that year, and the society is a cardiology society (half
of its branches' projects are 心力衰竭 courses, the search word). The branch also holds 1 %
of all projects (at least 600 in large sets, so that bulk actions on 500 of its rows are
possible); the other owners are drawn with a long tail (a few busy units, many quiet ones).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate

from sqlalchemy import Engine, create_engine, func, insert, select, text

from models import (
    DEFAULT_DISCIPLINES,
    Discipline,
    Lecturer,
    Project,
    ProjectEvent,
    ProjectNumberCounter,
    Role,
    Unit,
    User,
    execution_tally,
    tally,
)
from models.account import ROLE_PERMISSIONS, RoleName, roles_users

PASSWORD = "bench-pass-2026"
YEARS = 10
SOCIETIES, BRANCHES, ISSUERS, ACCOUNTS = 30, 1_500, 500, 4_000
LECTURERS_PER_PROJECT = 3
BATCH = 10_000
# The projects that are not published, per state (published is exactly half of all).
WAITING_SHARES = (
    ("draft", 4),
    ("returned", 2),
    ("at_society", 2),
    ("at_committee", 2),
)
# How the unpublished half spreads over the ten years, oldest first (percent): the last two
# years hold most of it. The filtered lists and the exports use the second last year.
WAITING_BY_YEAR = (2, 2, 2, 2, 2, 3, 3, 4, 40, 40)
# Rows each demo unit holds for each of its compared pages, at every size: more than a page
# (50), so that its work tab, its 年度+状态 filter and its search show a full page at 2,000
# projects as at 200,000.
DEMO_ROWS = 60
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红梅鹏飞宇晨"
TITLES = ("主任医师", "副主任医师", "教授", "副教授", "主治医师", "研究员")
TOPICS = (
    "心血管疾病诊疗新进展学习班",
    "冠心病介入治疗规范化培训班",
    "心力衰竭管理研讨会",
    "儿科常见病诊疗规范学习班",
    "新生儿复苏技术培训班",
    "针灸临床技能提高班",
    "经络腧穴理论与应用",
    "疑难病例多学科诊疗研讨会",
    "临床营养支持治疗进展",
    "危重症医学新进展学习班",
    "糖尿病综合管理培训班",
    "慢性阻塞性肺疾病诊治进展",
    "肿瘤精准治疗新进展",
    "医院感染防控实务",
    "超声诊断技术提高班",
    "临床检验质量管理",
    "麻醉安全与质量控制",
    "康复医学适宜技术推广",
    "护理管理与质量改进",
    "基层全科医生能力提升班",
)
# The demo society's specialty: its branches' courses, 心力衰竭 (the search word) for half.
CARDIOLOGY = (TOPICS[0], TOPICS[1], TOPICS[2], TOPICS[2])
HOSPITALS = ("北京协和医院", "北京大学第一医院", "北京朝阳医院", "北京天坛医院", "北京儿童医院")
DISTRICTS = ("东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区")
MODES = ("face_to_face", "remote", "blended")
# The demo accounts, logged in through the real form: (username, key of the unit).
DEMO_ACCOUNTS = {
    "bench_committee": "committee",
    "bench_society": "society",
    "bench_branch": "branch",
    "bench_issuer": "issuer",
}


@dataclass
class Tree:
    """The units and accounts inserted, and the ids the scenarios need."""

    committee: int = 0
    societies: list[int] = field(default_factory=list)
    branches: list[int] = field(default_factory=list)
    issuers: list[int] = field(default_factory=list)
    parent: dict[int, int] = field(default_factory=dict)
    name: dict[int, str] = field(default_factory=dict)
    first_account: dict[int, int] = field(default_factory=dict)

    @property
    def busy_branch(self) -> int:
        return self.branches[0]

    def society_branches(self, society: int) -> list[int]:
        """The branches of ``society``, the busy branch first when it is one of them."""
        return [b for b in self.branches if self.parent[b] == society]

    def demo_unit(self, key: str) -> int:
        return {
            "committee": self.committee,
            "society": self.societies[0],
            "branch": self.busy_branch,
            "issuer": self.issuers[0],
        }[key]


@dataclass
class Dataset:
    """What a generated database holds, for the scenarios and the report."""

    url: str
    projects: int
    years: list[int]
    tree: Tree
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


def hashed_password() -> str:
    """The demo password hashed once (argon2 is slow by design) and reused for every row."""
    from flask_security import hash_password

    from app import create_app
    from bench.webapp import SECRET_KEY

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        return hash_password(PASSWORD)


def _chunks(rows: list[dict], size: int = BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(conn, table, rows: list[dict]) -> int:
    """executemany in batches: one statement per batch, never one per row."""
    for chunk in _chunks(rows):
        conn.execute(insert(table), chunk)
    return len(rows)


def _phone(rng: random.Random) -> str:
    return f"010-{rng.randint(60000000, 89999999)}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


def _unit_row(uid, name, kind, parent_id, parent_kind, root_id, rng, now) -> dict:
    return {
        "id": uid,
        "name": name,
        "kind": kind,
        "parent_id": parent_id,
        "parent_kind": parent_kind,
        "root_id": root_id,
        "address": f"北京市{rng.choice(DISTRICTS)}{rng.randint(1, 300)}号",
        "manager": _person(rng),
        "phone": _phone(rng),
        "postal_code": f"1{rng.randint(0, 99999):05d}",
        "active": True,
        "created_at": now,
        "updated_at": now,
    }


def build_tree(rng: random.Random, now: datetime) -> tuple[Tree, list[dict]]:
    """Unit rows in insertion order (parents first) and the tree they form."""
    tree, rows = Tree(), []
    tree.committee = 1
    rows.append(_unit_row(1, "北京市继续医学教育委员会", "committee", None, None, None, rng, now))
    next_id = 2
    for s in range(SOCIETIES):
        tree.societies.append(next_id)
        rows.append(
            _unit_row(next_id, f"北京第{s + 1}学会", "society", 1, "committee", 1, rng, now)
        )
        next_id += 1
    for i in range(ISSUERS):
        tree.issuers.append(next_id)
        rows.append(
            _unit_row(next_id, f"发证医院{i + 1:03d}", "issuer", 1, "committee", 1, rng, now)
        )
        next_id += 1
    for b in range(BRANCHES):
        society = tree.societies[b % SOCIETIES]
        tree.branches.append(next_id)
        tree.parent[next_id] = society
        name = f"第{society - 1}学会第{b // SOCIETIES + 1}分会"
        rows.append(_unit_row(next_id, name, "branch", society, "society", 1, rng, now))
        next_id += 1
    tree.name = {row["id"]: row["name"] for row in rows}
    return tree, rows


def _role_of(tree: Tree, unit_id: int) -> RoleName:
    if unit_id == tree.committee:
        return RoleName.COMMITTEE
    return RoleName.SOCIETY if unit_id in set(tree.societies) else RoleName.ENTRY


def build_accounts(tree: Tree, password: str, rng: random.Random, now: datetime):
    """ACCOUNTS users: one per unit, the rest as second accounts of entry units.

    Rows for a bulk INSERT, not ``accounts.create_account``: 4,000 accounts with
    fixed ids in a few executemany batches, on a database no application
    serves yet. ``fs_uniquifier`` is what Flask-Security's datastore would set
    (a random UUID's hex), the username a valid, unique, lower-case one."""
    units = [tree.committee, *tree.societies, *tree.issuers, *tree.branches]
    entry = [*tree.issuers, *tree.branches]
    owners = units + [entry[i % len(entry)] for i in range(ACCOUNTS - len(units))]
    demo_by_unit = {tree.demo_unit(key): username for username, key in DEMO_ACCOUNTS.items()}
    users = []
    for uid, unit_id in enumerate(owners, start=1):
        first = unit_id not in tree.first_account
        if first:
            tree.first_account[unit_id] = uid
        username = demo_by_unit.get(unit_id) if first else None
        users.append(
            {
                "id": uid,
                "username": username or f"bench_u{uid:05d}",
                "display_name": f"{tree.name[unit_id][:40]}管理员",
                "unit_id": unit_id,
                "phone": _phone(rng),
                "email": None,
                "password": password,
                "active": True,
                "fs_uniquifier": uuid.uuid4().hex,
                "confirmed_at": None,
                "must_change_password": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    return users


def _owner_picker(tree: Tree, rng: random.Random):
    """A function drawing k owner units: three quarters branches, with a long tail
    (a few busy units, many quiet ones), the rest issuers."""
    branches = tree.branches[1:]
    branch_cw = list(accumulate(rng.paretovariate(1.3) for _ in branches))
    issuer_cw = list(accumulate(rng.paretovariate(1.3) for _ in tree.issuers))

    def pick(k: int) -> list[int]:
        n_branch = round(k * 0.75)
        owners = rng.choices(branches, cum_weights=branch_cw, k=n_branch)
        owners += rng.choices(tree.issuers, cum_weights=issuer_cw, k=k - n_branch)
        rng.shuffle(owners)
        return owners

    return pick


def _states(published: int, waiting: int, rng: random.Random) -> list[str]:
    """One year's states, shuffled: ``published`` published, ``waiting`` in the others."""
    total = sum(share for _, share in WAITING_SHARES)
    states = ["published"] * published
    for state, share in WAITING_SHARES:
        states += [state] * (waiting * share // total)
    states += ["draft"] * (published + waiting - len(states))
    rng.shuffle(states)
    return states


def _waiting_per_year(n_projects: int, published: int) -> list[int]:
    """The unpublished projects of each year (``WAITING_BY_YEAR``), adding up exactly."""
    waiting = n_projects - published * YEARS
    counts = [waiting * share // sum(WAITING_BY_YEAR) for share in WAITING_BY_YEAR]
    counts[-1] += waiting - sum(counts)
    return counts


class ProjectFactory:
    """Project, lecturer and event rows for one project at a time, with running ids."""

    def __init__(self, tree: Tree, rng: random.Random):
        self.tree, self.rng = tree, rng
        self.lecturer_id = self.event_id = 0
        self.numbers: dict[tuple[str, int], int] = defaultdict(int)
        self.issuer_set = set(tree.issuers)
        self.cardiology = set(tree.society_branches(tree.demo_unit("society")))

    def _topic(self, owner: int) -> str:
        """A course of the demo (cardiology) society's branches, or any course."""
        return self.rng.choice(CARDIOLOGY if owner in self.cardiology else TOPICS)

    def _number(self, prefix: str, year: int) -> str:
        self.numbers[(prefix, year)] += 1
        return f"{year}-{prefix}-{self.numbers[(prefix, year)]:05d}"

    def _path(self, state: str, issuer: bool) -> list[tuple[str, str | None, str, str]]:
        """(action, from, to, actor role) steps from creation to ``state``."""
        report = [("report", "draft", "at_committee", "owner")]
        if not issuer:
            report = [("report", "draft", "at_society", "owner")]
        up = report + ([] if issuer else [("report", "at_society", "at_committee", "society")])
        steps = [("create", None, "draft", "owner")]
        if state == "returned":
            source = report[0][2]
            actor = "committee" if issuer else "society"
            return [*steps, *report, ("unlock", source, "returned", actor)]
        if state == "at_society":
            return steps + report
        if state == "at_committee":
            return steps + up
        if state == "published":
            return [*steps, *up, ("publish", "at_committee", "published", "committee")]
        return steps

    def _actor(self, role: str, owner: int) -> int:
        unit = {"owner": owner, "society": self.tree.parent.get(owner), "committee": 1}[role]
        return unit

    def rows(self, pid: int, year: int, owner: int, state: str):
        """(project row, lecturer rows, event rows) of project ``pid``."""
        rng, issuer = self.rng, owner in self.issuer_set
        if issuer and state == "at_society":
            state = "at_committee"
        start = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        created = datetime(year, 1, 1) + timedelta(seconds=rng.randrange(300 * 86400))
        level = rng.choice(("national", "beijing")) if issuer else "society_i"
        path = self._path(state, issuer)
        events, moment = [], created
        for action, source, target, role in path:
            moment += timedelta(hours=rng.randint(1, 240))
            unit = self._actor(role, owner)
            self.event_id += 1
            events.append(
                {
                    "id": self.event_id,
                    "project_id": pid,
                    "project_name": "",
                    "owner_unit_id": owner,
                    "actor_id": self.tree.first_account[unit],
                    "actor_unit_id": unit,
                    "action": action,
                    "from_state": source,
                    "to_state": target,
                    "reason": "请补充授课教师信息" if action == "unlock" else None,
                    "created_at": moment,
                }
            )
        reported = [e["created_at"] for e in events if e["action"] == "report"]
        topic = self._topic(owner)
        name = f"{topic}（{year}年第{pid}期）"
        for event in events:
            event["project_name"] = name
        if issuer:
            number = self._number("GJ" if level == "national" else "BJ", year)
        else:
            number = self._number("XH", year) if state == "published" else None
        theory = rng.randint(8, 40) / 2
        project = {
            "id": pid,
            "year": year,
            "project_no": number,
            "name": name,
            "level": level,
            "discipline_id": rng.randint(1, len(DEFAULT_DISCIPLINES)),
            "organizer": self.tree.name[owner],
            "co_organizer": rng.choice(HOSPITALS) if rng.random() < 0.4 else None,
            "principal": _person(rng),
            "principal_title": rng.choice(TITLES),
            "contact": _person(rng),
            "phone": _phone(rng),
            "start_date": start,
            "end_date": start + timedelta(days=rng.randint(0, 4)),
            "venue": f"北京市{rng.choice(DISTRICTS)}{rng.choice(HOSPITALS)}会议中心",
            "mode": rng.choice(MODES),
            "audience": "本市相关专业医务人员",
            "planned_participants": rng.randint(30, 500),
            "theory_hours": theory,
            "practice_hours": rng.randint(0, 8) / 2,
            "credits": min(30.0, max(0.5, round(theory / 2) / 2 or 0.5)),
            "remarks": None,
            "state": state,
            "owner_unit_id": owner,
            "society_id": self.tree.parent.get(owner),
            "committee_id": 1,
            "return_reason": "请补充授课教师信息" if state == "returned" else None,
            "reported_at": reported[-1] if reported else None,
            "published_at": moment if state == "published" else None,
            "version": len(events),
            "created_at": created,
            "updated_at": moment,
        }
        return project, self._lecturers(pid, topic), events

    def _lecturers(self, pid: int, topic: str) -> list[dict]:
        rows = []
        for position in range(LECTURERS_PER_PROJECT):
            self.lecturer_id += 1
            rows.append(
                {
                    "id": self.lecturer_id,
                    "project_id": pid,
                    "position": position,
                    "name": _person(self.rng),
                    "title": self.rng.choice(TITLES),
                    "unit": self.rng.choice(HOSPITALS),
                    "topic": f"{topic[:8]}专题{position + 1}",
                    "hours": float(self.rng.randint(1, 8)),
                }
            )
        return rows


def busy_share(n_projects: int) -> int:
    """Projects of the busy branch besides its ``DEMO_ROWS`` quotas: 1 %, and at least 600
    in large sets (bulk actions on 500 of its rows)."""
    if n_projects < 10_000:
        return n_projects // 100
    return max(n_projects // 100, 600)


def _seed_reference(conn, tree_rows, users, tree: Tree) -> None:
    roles = [
        {
            "id": i,
            "name": r.value,
            "description": r.name.lower(),
            "permissions": ROLE_PERMISSIONS[r],
        }
        for i, r in enumerate(RoleName, start=1)
    ]
    conn.execute(insert(Role.__table__), roles)
    role_ids = {r["name"]: r["id"] for r in roles}
    _insert(conn, Unit.__table__, tree_rows)
    conn.execute(
        insert(Discipline.__table__),
        [
            # Each committee keeps its own list (migration 0010); the data set has one.
            {"id": i, "committee_id": tree.committee, "name": name, "sort_order": i, "active": True}
            for i, name in enumerate(DEFAULT_DISCIPLINES, start=1)
        ],
    )
    _insert(conn, User.__table__, users)
    links = [
        {"user_id": u["id"], "role_id": role_ids[_role_of(tree, u["unit_id"]).value]} for u in users
    ]
    _insert(conn, roles_users, links)


def _demo_owners(states: list[str], tree: Tree, rng: random.Random, *, filtered: bool):
    """Owners fixed in one year's shuffled ``states`` for the demo units' pages (a
    ``DEMO_ROWS``-th of the branch's published projects every year; in the filtered year
    ``DEMO_ROWS`` drafts of the branch and ``DEMO_ROWS`` projects waiting at the society,
    from its other branches): {position: owner}."""
    branch = tree.busy_branch
    others = tree.society_branches(tree.demo_unit("society"))[1:]
    positions = defaultdict(list)
    for index, state in enumerate(states):
        positions[state].append(index)
    fixed = dict.fromkeys(positions["published"][: DEMO_ROWS // YEARS], branch)
    if filtered:
        fixed |= dict.fromkeys(positions["draft"][:DEMO_ROWS], branch)
        fixed |= {i: rng.choice(others) for i in positions["at_society"][:DEMO_ROWS]}
    return fixed


def _project_batches(n_projects: int, years: list[int], tree: Tree, rng: random.Random):
    """Yield (projects, lecturers, events) batches, one year at a time."""
    factory = ProjectFactory(tree, rng)
    pick = _owner_picker(tree, rng)
    published = n_projects // 20
    waiting = _waiting_per_year(n_projects, published)
    busy_left = busy_share(n_projects)
    pid = 0
    for index, year in enumerate(years):
        states = _states(published, waiting[index], rng)
        fixed = _demo_owners(states, tree, rng, filtered=index == len(years) - 2)
        free = len(states) - len(fixed)
        busy = min(busy_left // (len(years) - index), free)
        busy_left -= busy
        drawn = [tree.busy_branch] * busy + pick(free - busy)
        rng.shuffle(drawn)
        rest = iter(drawn)
        owners = [fixed[i] if i in fixed else next(rest) for i in range(len(states))]
        projects, lecturers, events = [], [], []
        for owner, state in zip(owners, states, strict=True):
            pid += 1
            project, lecs, evs = factory.rows(pid, year, owner, state)
            projects.append(project)
            lecturers += lecs
            events += evs
        yield projects, lecturers, events
    yield factory.numbers


def _fix_sequences(conn) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("units", "users", "roles", "disciplines", "projects", "lecturers"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
    conn.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('project_events', 'id'),"
            " (SELECT coalesce(max(id), 1) FROM project_events))"
        )
    )


def _speed_pragmas(engine: Engine) -> None:
    """SQLite: no fsync while loading a throw-away database (this connection only)."""
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection, record):
            dbapi_connection.execute("PRAGMA synchronous=OFF")


def analyze(engine: Engine) -> None:
    """Fresh statistics, as autovacuum/ANALYZE would have on a live database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def generate(url: str, n_projects: int, *, seed: int = 6) -> Dataset:
    """Fill the (migrated, empty) database at ``url`` with the benchmark data set."""
    import time

    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime(date.today().year, 1, 1)
    this_year = date.today().year
    years = list(range(this_year - YEARS + 1, this_year + 1))
    tree, unit_rows = build_tree(rng, now)
    users = build_accounts(tree, hashed_password(), rng, now)
    engine = create_engine(url)
    _speed_pragmas(engine)
    counts = defaultdict(int)
    with engine.begin() as conn:
        _seed_reference(conn, unit_rows, users, tree)
        # The statistics triggers would cost more than the inserts themselves (a summary
        # update per row on SQLite, per executemany row on PostgreSQL): off for the
        # load, then back on with one recount (``models.tally``, ``models.execution_tally``).
        tally.drop(conn)
        execution_tally.drop(conn)
    counts |= {"units": len(unit_rows), "users": len(users)}
    numbers = {}
    for batch in _project_batches(n_projects, years, tree, rng):
        if isinstance(batch, dict):
            numbers = batch
            continue
        projects, lecturers, events = batch
        with engine.begin() as conn:
            counts["projects"] += _insert(conn, Project.__table__, projects)
            counts["lecturers"] += _insert(conn, Lecturer.__table__, lecturers)
            counts["project_events"] += _insert(conn, ProjectEvent.__table__, events)
    with engine.begin() as conn:
        counters = [
            {"committee_id": 1, "year": year, "last_value": last}
            for (prefix, year), last in numbers.items()
            if prefix == "XH"
        ]
        if counters:
            conn.execute(insert(ProjectNumberCounter.__table__), counters)
        _fix_sequences(conn)
        tally.install(conn)
        execution_tally.install(conn)
        assert conn.scalar(select(func.count()).select_from(Project.__table__)) == n_projects
    analyze(engine)
    engine.dispose()
    return Dataset(url, n_projects, years, tree, time.perf_counter() - started, dict(counts))
