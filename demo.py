"""The demo data: a committee, two societies with three branches,
an issuer, one account each (password ``demo-pass-2026``), and thirty projects
in every state over two years, walked there through the workflow engine so
their history is real."""

from __future__ import annotations

import io
import math
from contextlib import nullcontext
from datetime import date, timedelta

from flask_security import hash_password
from sqlalchemy import select
from sqlalchemy.orm import Session

import accounts as account_service
import workflow
from certificates import issuing
from certificates.pdf import FONT_PATH as SEAL_FONT
from certificates.settings import store_seal
from models import (
    Certificate,
    CertificateKind,
    Discipline,
    ExecutionState,
    IdType,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    User,
    WindowStep,
)
from models.base import beijing_today
from models.discipline import seed_default_disciplines
from models.rules import id_check_character
from workflow import Action, execution, hooks

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


def seed(session: Session, *, executions: bool = True) -> str | None:
    """Create the demo data; return a summary, or None when it is there already.
    ``executions=False`` leaves out the execution reports and their filing rule (a
    schema before them), and so the filing windows too (a later schema, 0024): the
    engine's checks are muted while the projects are walked, since the windows' check
    would read tables that schema has not (no rule or window exists then anyway)."""
    if session.scalar(select(User.id).where(User.username == "bjcme")) is not None:
        return None
    accounts = _create_units_and_accounts(session)
    disciplines = seed_default_disciplines(session, accounts["bjcme"].unit_id)
    count = 0
    made: dict[tuple[str, int, int], Project] = {}
    with nullcontext() if executions else hooks.checking.muted():
        for owner, year, states in PLAN:
            for index, target in enumerate(states):
                discipline = disciplines[DISCIPLINE_OF[owner]]
                project = _new_project(accounts[owner], year, index, discipline)
                workflow.create(session, accounts[owner], project)
                _walk(session, project, target, accounts)
                made[owner, year, index] = project
                count += 1
    reports = 0
    if executions:
        count += len(RECENT)
        reports = _seed_executions(session, accounts, disciplines, made)
    _seed_filing_rules(session, accounts["bjcme"].unit_id, executions)
    if executions:
        _seed_windows(session, accounts)
        _seed_seals(session, accounts)
    summary = f"{len(UNITS)} units, {len(accounts)} accounts, {count} projects"
    return summary + (f", {reports} execution reports" if executions else "")


def _seed_seals(session: Session, accounts) -> None:
    """Seal images for the committee and for 北京协和医院, as the committee uploads
    them on 证书设置 (checked and re-encoded by ``certificates.settings``): their
    certificates print both seals; the other organisers have none, and print names."""
    for username in ("bjcme", "pumch"):
        unit = accounts[username].unit
        store_seal(session, unit.id, seal_image(unit.name))


def seal_image(name: str, size: int = 360) -> bytes:
    """A round red seal (公章) drawn with Pillow: a ring, a star, and ``name`` along the
    top of the ring in the certificates' font. A PNG with a transparent background."""
    from PIL import Image, ImageDraw, ImageFont

    red = (200, 16, 26, 255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    ring = size // 28
    draw.ellipse((ring, ring, size - ring, size - ring), outline=red, width=ring)
    centre, star = size / 2, size / 7
    points = []
    for i in range(10):
        radius = star if i % 2 == 0 else star * 0.4
        angle = math.pi / 2 + i * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre - radius * math.sin(angle)))
    draw.polygon(points, fill=red)
    font = ImageFont.truetype(str(SEAL_FONT), size // 9)
    # The name along the top of the ring (up to 240° of it: a short name keeps its
    # characters close), each character turned to face out.
    span, radius = math.radians(min(240, 24 * len(name))), size / 2 - ring * 4.2
    for index, character in enumerate(name):
        angle = math.pi / 2 + span / 2 - span * (index + 0.5) / len(name)
        glyph = Image.new("RGBA", (size // 7, size // 7), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (size // 14, size // 14), character, font=font, fill=red, anchor="mm"
        )
        glyph = glyph.rotate(math.degrees(angle - math.pi / 2), resample=Image.BICUBIC)
        x = centre + radius * math.cos(angle) - glyph.width / 2
        y = centre - radius * math.sin(angle) - glyph.height / 2
        image.alpha_composite(glyph, (int(x), int(y)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seed_filing_rules(session: Session, committee_id: int, executions: bool = True) -> None:
    """The committee's filing rules for the demo years, every one at its default
    and warning only: reports and publications from now on show the warnings;
    the projects above were walked before the rules existed. Without ``executions``
    (a schema before the execution reports) the overdue-report rule is left out."""
    from models import RuleKind, Severity
    from workflow.filing_rules import set_rule

    for year in YEARS:
        for kind in RuleKind:
            if kind is RuleKind.OVERDUE_REPORTS and not executions:
                continue
            set_rule(session, committee_id, year, kind, severity=Severity.WARN)


def _seed_windows(session: Session, accounts) -> None:
    """申报时间 of next year's projects, around today (so that the demo always shows
    an open window with its countdown, and the tests that report next year's projects
    on today's date find it open): the entry units' 上报 closes in 34 days (10 January
    when built on 7 December), the societies' 10 days later, the committee's 审核 11
    more; 北京医学会 closes its branches' 上报 10 days before the committee, and grants
    心血管病学分会 6 more days. Set after the walk above: this year's and last year's
    projects have no window and move as before."""
    from workflow import calendar

    today = beijing_today()
    year = today.year + 1
    opens = max(today - timedelta(days=145), date(today.year, 1, 1))
    committee = accounts["bjcme"]
    closes = {
        WindowStep.ENTRY_REPORT: today + timedelta(days=34),
        WindowStep.SOCIETY_REPORT: today + timedelta(days=44),
        WindowStep.AUDIT: today + timedelta(days=55),
    }
    for step, day in closes.items():
        calendar.set_window(session, committee, year, step, opens, day)
    cut_off = today + timedelta(days=24)
    calendar.set_window(session, accounts["bma"], year, WindowStep.ENTRY_REPORT, None, cut_off)
    calendar.grant_exception(
        session,
        accounts["bma"],
        accounts["bma_cardio"].unit,
        year,
        WindowStep.ENTRY_REPORT,
        cut_off + timedelta(days=6),
        "学术年会筹备延期，经总会同意延后上报",
    )


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


# -- 执行情况: execution reports and their rosters (学员名单) -----------------------------------
E = ExecutionState

# Published projects that ended a few days before today (relative dates, so that their
# reports are due, not overdue, whatever day the demo is built): (owner, course, days
# since its end). pumch's first has no report yet: 填报执行情况 is there to try.
RECENT = (
    ("pumch", "罕见病多学科诊疗学习班", 2),
    ("pumch", "重症超声临床应用培训班", 6),
    ("bma_cardio", "心脏康复与二级预防学习班", 9),
)

# The reports, each walked to its state through workflow.execution: (project: PLAN's
# (owner, year, index) or ("recent", RECENT's index), target state, learners on the
# roster, what was held differently from the filing, story). Stories: "resent" was sent
# back once by its society and reported again with one more learner (the society sees who
# was added); "returned" waits with the society's reason. Every published project of PLAN
# has a report, and only tcm_acu's 2026 one (ended in November, still a draft) is overdue.
REPORTS = (
    (("pumch", 2025, 0), E.ACCEPTED, 6, {}, ""),
    (("pumch", 2025, 1), E.ACCEPTED, 5, {"venue": "北京协和医院东单院区学术会堂"}, ""),
    (("pumch", 2026, 3), E.AT_COMMITTEE, 4, {"credits": -0.5, "theory_hours": -2}, ""),
    (("pumch", 2026, 4), E.ACCEPTED, 8, {"lecturer": True}, ""),
    (("bma_cardio", 2025, 4), E.ACCEPTED, 7, {}, ""),
    (("bma_cardio", 2026, 4), E.AT_SOCIETY, 5, {"end_date": -1, "theory_hours": -3}, "resent"),
    (("bma_peds", 2025, 0), E.ACCEPTED, 5, {}, ""),
    (("bma_peds", 2025, 1), E.ACCEPTED, 3, {}, "revoked"),
    (("bma_peds", 2026, 4), E.AT_COMMITTEE, 6, {"practice_hours": -2}, ""),
    (("tcm_acu", 2025, 0), E.ACCEPTED, 4, {}, ""),
    (("tcm_acu", 2026, 4), E.DRAFT, 3, {}, "overdue"),
    (("recent", 1), E.DRAFT, 3, {}, "filling"),
    (("recent", 2), E.RETURNED, 5, {}, "returned"),
)
# The committee revoked one certificate of the "revoked" report by hand.
REVOKED_REASON = "经核实，该学员未全程参加学习，证书作废。"
RETURN_REASONS = {
    "resent": "签到表上有1名学员未列入学员名单，请补充后重新上报。",
    "returned": "请在总结中说明1名学员未出勤的原因，并核对实际授课学时后重新上报。",
}
# A lecturer who stood in for the filed second lecturer (the diff flags it).
STAND_IN = {
    "name": "吴海涛",
    "title": "主任医师",
    "unit": "首都医科大学附属北京安贞医院",
    "topic": "病例讨论",
    "hours": 2,
}

# Learners: (name, male, date of birth, area code, workplace, title, phone, 执业证号).
# Their ID numbers get a real check character (models.rules.id_check_character);
# 陈家豪 holds a residence permit for Hong Kong residents (810000…).
LEARNERS = (
    ("王丽华", False, "19780314", "110101", "北京大学第一医院", "主任医师", "13901012233", None),
    (
        "李建军",
        True,
        "19820927",
        "110102",
        "首都医科大学附属北京朝阳医院",
        "副主任医师",
        None,
        "110110000012345",
    ),
    (
        "张伟",
        True,
        "19880605",
        "110105",
        "首都医科大学附属北京安贞医院",
        "主治医师",
        "13811223344",
        None,
    ),
    ("刘洋", True, "19930118", "110108", "北京大学人民医院", "住院医师", None, None),
    (
        "陈晓燕",
        False,
        "19850722",
        "110106",
        "首都医科大学宣武医院",
        "主治医师",
        "13701234567",
        "110110000023456",
    ),
    ("杨帆", True, "19900203", "130102", "北京市海淀医院", "主治医师", None, None),
    ("赵磊", True, "19760811", "110111", "北京市房山区第一医院", "副主任医师", "13520112233", None),
    ("黄敏", False, "19910930", "370102", "首都医科大学附属北京天坛医院", "住院医师", None, None),
    ("周婷", False, "19870416", "110112", "北京市通州区人民医院", "主管护师", "13611010101", None),
    (
        "吴刚",
        True,
        "19800525",
        "410105",
        "首都医科大学附属北京友谊医院",
        "主任医师",
        None,
        "110110000034567",
    ),
    ("徐静", False, "19891107", "110114", "北京市昌平区医院", "主治医师", None, None),
    (
        "孙浩",
        True,
        "19920628",
        "220102",
        "首都医科大学附属北京同仁医院",
        "住院医师",
        "18610203040",
        None,
    ),
    ("马丽", False, "19831219", "110101", "北京积水潭医院", "副主任医师", None, None),
    (
        "朱宏伟",
        True,
        "19750308",
        "420106",
        "北京世纪坛医院",
        "主任医师",
        "13901234321",
        "110110000045678",
    ),
    ("胡晓东", True, "19860901", "110102", "首都医科大学附属北京儿童医院", "主治医师", None, None),
    ("郭佳", False, "19940412", "110105", "首都儿科研究所附属儿童医院", "住院医师", None, None),
    (
        "何雪梅",
        False,
        "19811026",
        "510104",
        "首都医科大学附属北京中医医院",
        "副主任医师",
        "13701112222",
        None,
    ),
    (
        "高峰",
        True,
        "19790714",
        "110108",
        "中国中医科学院广安门医院",
        "主任医师",
        None,
        "110110000056789",
    ),
    ("林芳", False, "19900822", "110106", "北京中医药大学东直门医院", "主治医师", None, None),
    ("罗斌", True, "19840130", "110101", "北京市垂杨柳医院", "主治医师", "13811112222", None),
    ("郑丹", False, "19920517", "130102", "北京市大兴区人民医院", "护师", None, None),
    ("梁晨", True, "19870309", "110105", "北京市顺义区医院", "主治医师", None, None),
    ("谢娜", False, "19880124", "110114", "北京怀柔医院", "主管药师", None, None),
    (
        "宋志强",
        True,
        "19771205",
        "370102",
        "首都医科大学附属北京安贞医院",
        "主任医师",
        "13910102020",
        "110110000067890",
    ),
    ("唐宇", True, "19950715", "110112", "北京大学第三医院", "住院医师", None, None),
    ("许文博", True, "19830418", "110102", "北京医院", "副主任医师", None, None),
    ("韩梅", False, "19860611", "110108", "中日友好医院", "主治医师", "13601011212", None),
    ("冯涛", True, "19810920", "410105", "北京大学第一医院", "副主任医师", None, None),
    ("曹颖", False, "19910302", "110101", "首都医科大学附属北京朝阳医院", "住院医师", None, None),
    ("陈家豪", True, "19880512", "810000", "北京和睦家医院", "主治医师", "13800138000", None),
    ("彭亮", True, "19820816", "420106", "北京市第六医院", "主治医师", None, None),
    ("曾小红", False, "19790505", "510104", "首都医科大学宣武医院", "主任护师", None, None),
    ("肖勇", True, "19851128", "110106", "北京丰台医院", "主治医师", None, None),
    ("田甜", False, "19930620", "220102", "北京市海淀医院", "住院医师", "15010203040", None),
)


def learner_id_number(index: int) -> str:
    """The demo learner's ID number: area, date of birth, a sequence whose last digit
    is odd for a man, and the check character."""
    _, male, birth, area, *_ = LEARNERS[index]
    sequence = ((index * 37) % 449 + 50) * 2 + (1 if male else 0)
    first17 = f"{area}{birth}{sequence:03d}"
    return first17 + id_check_character(first17)


def _learner(index: int, credits: float, attended: bool) -> dict:
    name, _, _, area, workplace, title, phone, license_no = LEARNERS[index]
    return {
        "name": name,
        "id_type": IdType.PERMIT if area.startswith("81") else IdType.RESIDENT,
        "id_number": learner_id_number(index),
        "workplace": workplace,
        "title": title,
        "phone": phone,
        "license_no": license_no,
        "attended": attended,
        "credits": credits,
    }


def _roster(first: int, size: int, credits: float) -> list[dict]:
    """``size`` learners from ``first`` on: the third of four or more left early (half
    the credits), the last of five or more did not come (none)."""
    rows = []
    for position in range(size):
        attended = not (size >= 5 and position == size - 1)
        awarded = credits if attended else 0
        if size >= 4 and position == 2:
            awarded = int(credits) / 2 if credits >= 1 else 0
        rows.append(_learner((first + position) % len(LEARNERS), awarded, attended))
    return rows


def _recent_project(session, owner: User, course: str, days: int, index: int, discipline):
    """A project that ended ``days`` days ago, published."""
    end = date.today() - timedelta(days=days)
    start = end - timedelta(days=1)
    project = _new_project(owner, start.year, 1, discipline)
    project.year = start.year
    project.name = f"{course}（{start.year}）"
    project.start_date, project.end_date = start, end
    if project.project_no:
        project.project_no = f"{start.year}-03-{6 + index:02d}-{owner.id:03d} (国)"
    return project


def _seed_executions(session: Session, accounts, disciplines, made) -> int:
    """The demo's execution reports: RECENT's projects published, then REPORTS opened,
    filled, given a roster and moved, all through workflow.execution. How many opened."""
    for index, (owner, course, days) in enumerate(RECENT):
        project = _recent_project(
            session, accounts[owner], course, days, index, disciplines[DISCIPLINE_OF[owner]]
        )
        workflow.create(session, accounts[owner], project)
        _walk(session, project, ProjectState.PUBLISHED, accounts)
        made["recent", index] = project
    first = 0
    for key, target, size, changes, story in REPORTS:
        project = made[key]
        roster = _roster(first, size, project.credits + changes.get("credits", 0))
        _report(session, project, target, roster, changes, story, accounts)
        first += size
    return len(REPORTS)


def _held_values(report, roster: list[dict], changes: dict, story: str) -> dict:
    values = _changed_values(report, changes)
    attended = [row for row in roster if row["attended"]]
    values["learners"] = len(attended)
    if story in ("overdue", "filling"):
        return values  # not written up yet
    start = values["start_date"]
    passed = sum(1 for row in attended if row["credits"] == values["credits"])
    values["pass_rate"] = round(100 * passed / len(attended), 1)
    values["summary"] = (
        f"项目于{start.year}年{start.month}月{start.day}日在{values['venue']}举办，"
        f"实到学员{len(attended)}人，结业考核通过{passed}人，"
        f"每人授予学分{values['credits']:g}分。"
    ) + _change_notes(changes)
    return values


def _changed_values(report, changes: dict) -> dict:
    """The report's values with the story's changes: a text as it is, a date moved by
    days, a number added to (the lecturer's change is the roster's, not a value)."""
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    for name, change in changes.items():
        if name == "lecturer":
            continue
        if isinstance(change, str):
            values[name] = change
        elif name.endswith("_date"):
            values[name] = values[name] + timedelta(days=change)
        else:
            values[name] = values[name] + change
    return values


def _change_notes(changes: dict) -> str:
    """The summary's sentences explaining what was held otherwise than filed."""
    notes = ""
    if "venue" in changes:
        notes += "因会场调整，举办地点与申报时不同。"
    if "lecturer" in changes:
        notes += f"原定授课教师因公出差，由{STAND_IN['name']}主任代为授课。"
    if "end_date" in changes or "theory_hours" in changes:
        notes += "因日程调整，实际学时较申报时减少。"
    return notes


def _report(session, project, target: ExecutionState, roster, changes, story, accounts) -> None:
    """Open ``project``'s report as its owner, fill it in, add its roster and walk it
    to ``target`` the way the chain does."""
    owner = accounts[_key_of(project.owner_unit)]
    society = accounts.get(_key_of(project.owner_unit.parent)) if project.society_id else None
    committee = accounts["bjcme"]
    report = execution.open_report(session, owner, project)
    lecturers = _stand_in(report) if "lecturer" in changes else None
    # The late learner of a resent report was on the sign-in sheet, not on the roster.
    late = roster.pop(0) if story == "resent" else None
    held = _held_values(report, roster if late is None else [*roster, late], changes, story)
    # The report's credits first: a learner's are bounded by them.
    _valid(execution.save_report(session, owner, report, held, lecturers))
    for row in roster:
        _valid(execution.add_learner(session, owner, report, row)[1])
    _walk_report(session, report, target, story, late, (owner, society, committee))


def _stand_in(report) -> list[dict]:
    """The report's lecturers with the second one replaced by the stand-in."""
    keys = execution.LECTURER_KEYS
    lecturers = [{key: getattr(lec, key) for key in keys} for lec in report.lecturers]
    lecturers[1] = STAND_IN
    return lecturers


def _walk_report(session, report, target: ExecutionState, story, late, chain: tuple) -> None:
    """The report walked to ``target`` by its chain (owner, society or None, committee):
    a returned story's report sent back and reported again with its late learner, a
    revoked story's first credit certificate revoked by hand."""
    owner, society, committee = chain
    if target is E.DRAFT:
        return
    execution.move(session, report, Action.REPORT, owner)
    if story in RETURN_REASONS:
        execution.move(session, report, Action.UNLOCK, society or committee, RETURN_REASONS[story])
        if target is E.RETURNED:
            return
        _valid(execution.add_learner(session, owner, report, late)[1])
        execution.move(session, report, Action.REPORT, owner)
    if target is E.AT_SOCIETY:
        return
    if society is not None:
        execution.move(session, report, Action.REPORT, society)
    if target is E.ACCEPTED:
        execution.move(session, report, Action.ACCEPT, committee)
    if story == "revoked":
        _revoke_first(session, report, committee)


def _revoke_first(session, report, committee) -> None:
    """The report's first credit certificate revoked by hand (the committee's)."""
    first = session.scalars(
        select(Certificate)
        .where(Certificate.report_id == report.id, Certificate.kind == CertificateKind.CREDIT)
        .order_by(Certificate.serial)
    ).first()
    issuing.revoke_by_hand(session, committee, first, REVOKED_REASON)


def _valid(errors: dict) -> None:
    if errors:
        raise ValueError(f"demo data refused: {errors}")
