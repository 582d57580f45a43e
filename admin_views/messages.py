"""消息: the signed-in account's messages (to its unit and to itself), mark read,
mark all read, and its choice of e-mail; the header's bell counts the unread.

Every read and change goes through ``notifications.inbox.addressed_to``: another
account's message answers 404 and nothing changes."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from admin_views.base import account, row_ids
from admin_views.projects import ProjectView
from admin_views.signed_in import SignedInView
from extensions import db
from models.message import EmailMode, Message
from notifications import inbox
from notifications.wording import sentence

PAGE_SIZE = 30
# Project names shown under a message; the rest are behind its link.
NAMED = 5


def unread_messages() -> int:
    """The bell's count, once per request (the header asks for it)."""
    if "unread_messages" not in g:
        g.unread_messages = inbox.unread_count(db.session, account())
    return g.unread_messages


def message_url(message: Message) -> str:
    """The filtered list (of projects or execution reports) the message is about."""
    return ProjectView.filter_url(message.list_endpoint, **(message.list_filters or {}))


class MessagesView(SignedInView):
    """Open to every signed-in account; shows only what is addressed to it."""

    in_menu = False  # reached through the header's bell

    @expose("/")
    def index(self):
        user = account()
        page = max(request.args.get("page", 1, type=int), 1)
        scoped = inbox.messages_of(user)
        total = db.session.scalar(select(func.count()).select_from(scoped.subquery()))
        messages = list(db.session.scalars(scoped.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
        rows = [
            {
                "message": m,
                "text": sentence(m.kind, m.actor_name, m.count, m.subject),
                "url": url_for(".open_message", id=m.id),
                "names": [p["name"] for p in (m.projects or [])[:NAMED]],
                "more": max(len(m.projects or []) - NAMED, 0),
            }
            for m in messages
        ]
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        return self.render(
            "admin/messages.html",
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            unread=unread_messages(),
            email_mode=inbox.email_mode(db.session, user),
            email_modes=list(EmailMode),
            email=user.email or None,
        )

    @expose("/<id:id>/open")
    def open_message(self, id: int):
        """Opening a message reads it and shows its projects' list."""
        message = inbox.find(db.session, account(), id) or abort(404)
        inbox.mark_read(db.session, account(), [message.id])
        db.session.commit()
        return redirect(message_url(message))

    @expose("/read", methods=("POST",))
    def mark_read(self):
        ids = row_ids(request.form.getlist("id"))
        if not ids:
            abort(404)
        found = db.session.scalars(
            select(Message.id).where(Message.id.in_(ids), inbox.addressed_to(account()))
        ).all()
        if len(found) != len(set(ids)):
            abort(404)
        inbox.mark_read(db.session, account(), ids)
        db.session.commit()
        return redirect(self._back())

    @expose("/read-all", methods=("POST",))
    def mark_all_read(self):
        changed = inbox.mark_read(db.session, account())
        db.session.commit()
        flash(gettext("%(n)s message(s) marked as read.", n=changed), "success")
        return redirect(self._back())

    @expose("/email", methods=("POST",))
    def email_preference(self):
        try:
            mode = EmailMode(request.form.get("email_mode", ""))
        except ValueError:
            abort(400)
        inbox.set_email_mode(db.session, account(), mode)
        db.session.commit()
        flash(gettext("E-mail reminders: %(mode)s.", mode=mode.title), "success")
        return redirect(self._back())

    def _back(self) -> str:
        page = request.form.get("page", type=int)
        return url_for(".index", page=page) if page and page > 1 else url_for(".index")


def register(admin) -> None:
    admin.add_view(MessagesView(name=_l("Messages"), endpoint="messages", url="messages"))
    admin.app.context_processor(lambda: {"unread_messages": unread_messages})
