"""The data model, one aggregate per module."""

from models import rules
from models.account import LoginSession, LoginThrottle, Role, RoleName, User, ensure_roles
from models.audit import AuditEntry, AuditEvent
from models.base import Base, utcnow
from models.calendar import (
    DEFAULT_CLOCKS,
    DEFAULT_ESCALATE_AFTER_DAYS,
    FilingWindow,
    Reminder,
    ReminderClock,
    ReminderSettings,
    WindowException,
    WindowStep,
)
from models.certificate import (
    Certificate,
    CertificateCounter,
    CertificateEvent,
    CertificateKind,
    CertificateSettings,
    CertificateStatus,
    CreditCategory,
    Seal,
)
from models.discipline import DEFAULT_DISCIPLINES, Discipline
from models.event import ProjectEvent
from models.execution import (
    DEFAULT_DUE_DAYS,
    ExecutionDeadline,
    ExecutionEvent,
    ExecutionLecturer,
    ExecutionReport,
    ExecutionSnapshot,
    ExecutionState,
    IdType,
    RosterEntry,
    RosterSource,
)
from models.execution_tally import ExecutionOwnerTally, ExecutionTally
from models.filing_rule import DEFAULT_PARAMS, FilingRule, ProjectWarning, RuleKind, Severity
from models.import_batch import BatchStatus, ImportBatch, ImportKey
from models.job import Job
from models.message import EmailMode, Message, MessageKind, NotificationPreference, OutboxMail
from models.project import (
    LEVELS_OF_KIND,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectNumberCounter,
    ProjectState,
    StateAssignmentError,
)
from models.setting import Setting
from models.submission import Submission
from models.tally import ProjectTally
from models.unit import Unit, UnitKind
from models.version import ProjectVersion

__all__ = [
    "DEFAULT_CLOCKS",
    "DEFAULT_DISCIPLINES",
    "DEFAULT_DUE_DAYS",
    "DEFAULT_ESCALATE_AFTER_DAYS",
    "DEFAULT_PARAMS",
    "LEVELS_OF_KIND",
    "AuditEntry",
    "AuditEvent",
    "Base",
    "BatchStatus",
    "Certificate",
    "CertificateCounter",
    "CertificateEvent",
    "CertificateKind",
    "CertificateSettings",
    "CertificateStatus",
    "CreditCategory",
    "Discipline",
    "EmailMode",
    "ExecutionDeadline",
    "ExecutionEvent",
    "ExecutionLecturer",
    "ExecutionOwnerTally",
    "ExecutionReport",
    "ExecutionSnapshot",
    "ExecutionState",
    "ExecutionTally",
    "FilingRule",
    "FilingWindow",
    "IdType",
    "ImportBatch",
    "ImportKey",
    "Job",
    "Lecturer",
    "LoginSession",
    "LoginThrottle",
    "Message",
    "MessageKind",
    "NotificationPreference",
    "OutboxMail",
    "Project",
    "ProjectEvent",
    "ProjectLevel",
    "ProjectMode",
    "ProjectNumberCounter",
    "ProjectState",
    "ProjectTally",
    "ProjectVersion",
    "ProjectWarning",
    "Reminder",
    "ReminderClock",
    "ReminderSettings",
    "Role",
    "RoleName",
    "RosterEntry",
    "RosterSource",
    "RuleKind",
    "Seal",
    "Setting",
    "Severity",
    "StateAssignmentError",
    "Submission",
    "Unit",
    "UnitKind",
    "User",
    "WindowException",
    "WindowStep",
    "ensure_roles",
    "rules",
    "utcnow",
]
