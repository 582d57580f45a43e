"""The demo data: a committee, two societies with three branches,
an issuer, one account each (password ``demo-pass-2026``), and thirty projects
in every state over two years, walked there through the workflow engine so
their history is real."""

from __future__ import annotations

from datetime import date, timedelta

from flask_security import hash_password
from sqlalchemy import select
from sqlalchemy.orm import Session

import accounts as account_service
import workflow
from models import (
    Discipline,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    User,
)
from models.discipline import seed_default_disciplines
from workflow import Action

DEMO_PASSWORD = "demo-pass-2026"
YEARS = (2025, 2026)

# (key, name, kind, parent key, username, display name, address, manager, phone, postal code)
UNITS = (
    (
        "bjcme",
        "北京市继续医学教育委员会",
        UnitKind.COMMITTEE,
        None,
        "市继委管理员",
        "北京市西城区枣林前街70号",
        "王建国",
        "010-83970000",
        "100053",
    ),
    (
        "bma",
        "北京医学会",
        UnitKind.SOCIETY,
        "bjcme",
        "北京医学会管理员",
        "北京市东城区东四西大街42号",
        "李明",
        "010-65253900",
        "100010",
    ),
    (
        "bjtcm",
        "北京中医药学会",
        UnitKind.SOCIETY,
        "bjcme",
        "北京中医药学会管理员",
        "北京市东城区东直门内南小街16号",
        "张华",
        "010-64014411",
        "100700",
    ),
    (
        "bma_cardio",
        "北京医学会心血管病学分会",
        UnitKind.BRANCH,
        "bma",
        "心血管病学分会秘书",
        "北京市西城区阜成门外大街167号",
        "刘强",
        "010-88398866",
        "100037",
    ),
    (
        "bma_peds",
        "北京医学会儿科学分会",
        UnitKind.BRANCH,
        "bma",
        "儿科学分会秘书",
        "北京市西城区南礼士路56号",
        "陈静",
        "010-59616161",
        "100045",
    ),
    (
        "tcm_acu",
        "北京中医药学会针灸分会",
        UnitKind.BRANCH,
        "bjtcm",
        "针灸分会秘书",
        "北京市东城区美术馆后街23号",
        "赵红",
        "010-52176677",
        "100010",
    ),
    (
        "pumch",
        "北京协和医院",
        UnitKind.ISSUER,
        "bjcme",
        "协和医院继教办",
        "北京市东城区帅府园1号",
        "孙伟",
        "010-69156114",
        "100730",
    ),
)

TOPICS = {
    "bma_cardio": (
        "心血管疾病诊疗新进展学习班",
        "冠心病介入治疗规范化培训班",
        "心力衰竭管理研讨会",
        "心律失常诊治进展",
        "高血压基层管理培训班",
    ),
    "bma_peds": (
        "儿科常见病诊疗规范学习班",
        "新生儿复苏技术培训班",
        "儿童哮喘规范化管理",
        "儿科急危重症救治进展",
        "儿童生长发育评估培训班",
    ),
    "tcm_acu": (
        "针灸临床技能提高班",
        "针刺治疗颈肩腰腿痛学习班",
        "经络腧穴理论与应用",
        "灸法临床应用培训班",
        "针灸治疗中风后遗症进展",
    ),
    "pumch": (
        "疑难病例多学科诊疗研讨会",
        "临床营养支持治疗进展",
        "危重症医学新进展学习班",
        "医院感染防控培训班",
        "临床药物治疗学进展",
    ),
}
DISCIPLINE_OF = {
    "bma_cardio": "临床内科学",
    "bma_peds": "儿科学",
    "tcm_acu": "针灸学",
    "pumch": "急诊学",
}

BRANCH_STATES = (
    ProjectState.DRAFT,
    ProjectState.RETURNED,
    ProjectState.AT_SOCIETY,
    ProjectState.AT_COMMITTEE,
    ProjectState.PUBLISHED,
)
ISSUER_STATES = (
    ProjectState.DRAFT,
    ProjectState.RETURNED,
    ProjectState.AT_COMMITTEE,
    ProjectState.PUBLISHED,
    ProjectState.PUBLISHED,
)
# (owner, year, target states): 30 projects.
PLAN = (
    ("bma_cardio", 2026, BRANCH_STATES),
    ("bma_cardio", 2025, BRANCH_STATES),
    ("bma_peds", 2026, BRANCH_STATES),
    ("bma_peds", 2025, (ProjectState.PUBLISHED, ProjectState.PUBLISHED)),
    ("tcm_acu", 2026, BRANCH_STATES),
    ("tcm_acu", 2025, (ProjectState.PUBLISHED, ProjectState.AT_COMMITTEE)),
    ("pumch", 2026, ISSUER_STATES),
    ("pumch", 2025, (ProjectState.PUBLISHED, ProjectState.PUBLISHED, ProjectState.AT_COMMITTEE)),
)


def seed(session: Session) -> str | None:
    """Create the demo data; return a summary, or None when it is there already."""
    if session.scalar(select(User.id).where(User.username == "bjcme")) is not None:
        return None
    accounts = _create_units_and_accounts(session)
    disciplines = seed_default_disciplines(session, accounts["bjcme"].unit_id)
    count = 0
    for owner, year, states in PLAN:
        for index, target in enumerate(states):
            project = _new_project(accounts[owner], year, index, disciplines[DISCIPLINE_OF[owner]])
            workflow.create(session, accounts[owner], project)
            _walk(session, project, target, accounts)
            count += 1
    _seed_filing_rules(session, accounts["bjcme"].unit_id)
    return f"{len(UNITS)} units, {len(accounts)} accounts, {count} projects"


def _seed_filing_rules(session: Session, committee_id: int) -> None:
    """The committee's filing rules for the demo years, every one at its default
    and warning only: reports and publications from now on show the warnings;
    the projects above were walked before the rules existed."""
    from models import RuleKind, Severity
    from workflow.filing_rules import set_rule

    for year in YEARS:
        for kind in RuleKind:
            set_rule(session, committee_id, year, kind, severity=Severity.WARN)


def _create_units_and_accounts(session: Session) -> dict[str, User]:
    units: dict[str, Unit] = {}
    accounts: dict[str, User] = {}
    password = hash_password(DEMO_PASSWORD)
    for key, name, kind, parent, display, address, manager, phone, postal in UNITS:
        unit = Unit(
            name=name,
            kind=kind,
            parent=units.get(parent),
            address=address,
            manager=manager,
            phone=phone,
            postal_code=postal,
        )
        units[key] = unit
        session.add(unit)
        accounts[key] = account_service.create_account(
            unit,
            username=key,
            display_name=display,
            # One hash for the seven accounts: argon2 is slow by design.
            password_hash=password,
            must_change_password=False,
        )
    session.flush()
    return accounts


def _new_project(owner: User, year: int, index: int, discipline: Discipline) -> Project:
    issuer = owner.unit.kind is UnitKind.ISSUER
    start = date(year, 3 + index * 2, 10 + index)
    name = TOPICS[owner.username][index % len(TOPICS[owner.username])]
    project = Project(
        year=year,
        project_no=f"{year}-03-{index + 1:02d}-{owner.id:03d} (国)" if issuer else None,
        name=f"{name}（{year}）",
        level=(ProjectLevel.NATIONAL if index % 2 == 0 else ProjectLevel.BEIJING)
        if issuer
        else ProjectLevel.SOCIETY_I,
        discipline=discipline,
        organizer=owner.unit.name,
        principal=owner.unit.manager,
        principal_title="主任医师",
        contact=owner.display_name,
        phone=owner.unit.phone,
        start_date=start,
        end_date=start + timedelta(days=index % 3),
        venue="北京市" + ("东城区" if index % 2 else "西城区") + "会议中心",
        mode=(ProjectMode.FACE_TO_FACE, ProjectMode.REMOTE, ProjectMode.BLENDED)[index % 3],
        audience="本专业中级及以上职称医师",
        planned_participants=100 + 50 * index,
        theory_hours=12 + 3 * index,
        practice_hours=index * 2,
        credits=4 + index * 0.5,
        remarks=None,
    )
    project.lecturers = [
        Lecturer(
            position=0,
            name=owner.unit.manager,
            title="主任医师",
            unit=owner.unit.name,
            topic="总论与新进展",
            hours=3,
        ),
        Lecturer(
            position=1,
            name="周" + "明亮敏杰"[index % 4],
            title="副主任医师",
            unit=owner.unit.name,
            topic="病例讨论",
            hours=2,
        ),
    ]
    return project


def _walk(session: Session, project: Project, target: ProjectState, accounts) -> None:
    owner = accounts[_key_of(project.owner_unit)]
    society = accounts.get(_key_of(project.owner_unit.parent)) if project.society_id else None
    drive(session, project, target, owner=owner, society=society, committee=accounts["bjcme"])


def drive(session: Session, project: Project, target: ProjectState, *, owner, society, committee):
    """Take a new draft ``project`` to ``target`` the way the manual does:
    the owner reports, the society reports upward, the committee publishes;
    a returned project was sent back by its first reviewer."""
    if target is ProjectState.DRAFT:
        return
    workflow.apply(session, project, Action.REPORT, owner)
    if target is ProjectState.RETURNED:
        reviewer = society or committee
        workflow.apply(
            session, project, Action.UNLOCK, reviewer, "请补充授课教师的职称和授课学时。"
        )
        return
    if society is not None and target is not ProjectState.AT_SOCIETY:
        workflow.apply(session, project, Action.REPORT, society)
    if target is ProjectState.PUBLISHED:
        workflow.apply(session, project, Action.PUBLISH, committee)


def _key_of(unit: Unit) -> str:
    return next(key for key, name, *_ in UNITS if name == unit.name)
