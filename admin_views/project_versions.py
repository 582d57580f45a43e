"""修改对比 on the project pages: what changed since the reviewer last saw a
project (details page and list badge), and the comparison of any two versions
(``/admin/<view>/diff/?id=&a=&b=``).

A mixin of ``ProjectView``: every page is scoped like the project
(``get_one`` answers 404 outside the account's scope); the comparisons come
from ``workflow.versions``, which reads the snapshots and finds the reasons.
"""

from __future__ import annotations

from flask import abort, request
from flask_admin import expose

from admin_views.base import account
from admin_views.list_context import list_context
from models import ProjectVersion
from workflow import versions


class VersionsMixin:
    """Adds the changes since last seen, the versions and their comparison."""

    def changes_since_last_seen(self, project) -> versions.Comparison | None:
        """For a reviewer: what changed since they last saw ``project``, with
        the send-back reasons, when it came back after 退回修改."""
        return versions.since_last_seen(
            self.db_session, account(), project, self.project_versions(project)
        )

    def project_versions(self, project) -> list[ProjectVersion]:
        """The project's versions, oldest first, read once per request."""
        cache = list_context().versions
        if project.id not in cache:
            cache[project.id] = versions.versions_of(self.db_session, project.id)
        return cache[project.id]

    def changed_counts(self, rows) -> dict[int, int]:
        """For a list's page: {project id: number of changes} of the rows that
        came back after 退回修改, read once for the page (one statement)."""
        context = list_context()
        if context.changed_counts is None:
            context.changed_counts = versions.changed_counts(self.db_session, account(), rows or ())
        return context.changed_counts

    def opening_numbers(self, project) -> tuple[int | None, int | None]:
        """The version numbers 修改对比 opens on (``versions.opening_pair``): the
        latest step that changed a field, not the publish that followed it."""
        pair = versions.opening_pair(self.project_versions(project))
        return (pair[0].number, pair[1].number) if pair else (None, None)

    @expose("/diff/")
    def diff_view(self):
        """Two versions of a project compared: ``a`` and ``b`` are version numbers
        (the older one is shown first whichever order they come in); with neither,
        the step that last changed a field (``opening_numbers``)."""
        project = self.get_one(request.args.get("id"))
        numbers = {request.args.get("a", type=int), request.args.get("b", type=int)}
        if "a" not in request.args and "b" not in request.args:
            numbers = set(self.opening_numbers(project))
        if None in numbers:
            abort(404)
        by_number = {v.number: v for v in self.project_versions(project)}
        if not numbers <= set(by_number):
            abort(404)
        old, new = by_number[min(numbers)], by_number[max(numbers)]
        comparison = versions.compare(old, new)
        comparison.returns = versions.returns_between(
            self.db_session, account(), project.id, old, new
        )
        return self.render(
            "admin/project_diff.html",
            model=project,
            comparison=comparison,
            all_versions=list(by_number.values()),
            return_url=self.get_url(".details_view", id=project.id),
        )
