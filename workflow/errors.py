"""Typed workflow errors; each carries a translatable message for the user."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class WorkflowError(Exception):
    """Base of every refusal by the engine. ``message`` is shown to the user."""

    def __init__(self, message, project_id: int | None = None, project_name: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.project_id = project_id
        self.project_name = project_name

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(WorkflowError):
    """The account may not take this action on the project in its current state."""


class ProjectNotFound(WorkflowError):
    """The id does not exist or is outside what the account may see."""

    def __init__(self, project_id: int | None = None):
        super().__init__(_l("The project does not exist or is not visible to you."), project_id)


class ProjectChanged(WorkflowError):
    """Someone else changed the project since it was read (compare-and-set lost)."""

    def __init__(self, project_id: int | None = None, project_name: str | None = None):
        super().__init__(
            _l("The project was changed by someone else meanwhile; reload it and try again."),
            project_id,
            project_name,
        )


class ReasonRequired(WorkflowError):
    def __init__(self):
        super().__init__(_l("A reason is required for this action."))


class ReportNotFound(ProjectNotFound):
    """The execution report does not exist or is outside what the account may see."""

    def __init__(self, report_id: int | None = None):
        WorkflowError.__init__(
            self, _l("The execution report does not exist or is not visible to you."), report_id
        )


class ReportChanged(ProjectChanged):
    """Someone else changed the execution report since it was read."""

    def __init__(self, report_id: int | None = None, name: str | None = None):
        WorkflowError.__init__(
            self,
            _l(
                "The execution report was changed by someone else meanwhile;"
                " reload it and try again."
            ),
            report_id,
            name,
        )
