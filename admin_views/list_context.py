"""What one request of a list's pages (the project lists, the management lists) learns
once and reads in several places.

A Flask-Admin view object is shared by every request, so nothing of one request may
be kept on it. Instead of a loose ``g`` attribute per fact (the count's cap, the
pager's total, the rows' reasons, the year choices, the name of a project just saved
or deleted, the versions read), the request carries one ``ListContext``: its fields
say in one place what a page may pass from one hook to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_app_context


@dataclass
class ListContext:
    # LIST_COUNT_CAP while the list page is drawn; 0 (count exactly) for exports,
    # bulk actions and every other use of the list's query.
    count_cap: int = 0
    # The pager line's total (a capped_count.Figure: exact up to the cap, or where cheap).
    total: object | None = None
    # The 状态 tabs' counts by state (read once, shared by the tabs and the pager), and
    # whether they are exact (from the tallies) rather than capped.
    state_counts: dict | None = None
    counts_exact: bool = False
    # The page's rows' return or withdrawal reasons, {project id: note}.
    reason_notes: dict[int, str] = field(default_factory=dict)
    # The 年度 choices (read by the bar and by the filter builder).
    year_options: list | None = None
    # The name of the project just saved or deleted, for the reworded message.
    saved_project: str | None = None
    deleted_project: str | None = None
    # A management list's row just saved: (its title, whether it was added).
    saved_row: tuple[str, bool] | None = None
    # A project's versions, {project id: versions}, and the page's change counts.
    versions: dict = field(default_factory=dict)
    changed_counts: dict[int, int] | None = None


def list_context() -> ListContext:
    """This request's context (a fresh, unshared one outside any app context)."""
    if not has_app_context():
        return ListContext()
    if "list_context" not in g:
        g.list_context = ListContext()
    return g.list_context
