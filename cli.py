"""Command-line interface: ``flask --app app <command>``."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

import accounts
from extensions import db
from models import Base, Unit, UnitKind, execution_tally, rules, tally
from models.discipline import seed_default_disciplines
from password_salt import check_password_salt


def register(app: Flask) -> None:
    app.cli.add_command(create_committee)
    app.cli.add_command(seed_demo)
    app.cli.add_command(rebuild_statistics)
    app.cli.add_command(periodic)


@click.command("create-committee")
@click.option("--name", required=True, help="Unit name, e.g. 北京市继续医学教育委员会")
@click.option("--address", required=True)
@click.option("--manager", required=True, help="单位负责人")
@click.option("--phone", required=True)
@click.option("--postal-code", required=True)
@click.option("--username", required=True)
@click.option("--display-name", default=None)
@click.password_option(help="Prompted (twice) unless given; use the option only in scripts.")
@with_appcontext
def create_committee(name, address, manager, phone, postal_code, username, display_name, password):
    """Create a committee unit (the top of a tree) and its first account.

    The checks and their (Chinese) messages are the admin panel's: the unit's
    fields by ``models.rules``, the account's by ``accounts``.
    """
    values = {
        "name": name,
        "address": address,
        "manager": manager,
        "phone": phone,
        "postal_code": postal_code,
    }
    errors = rules.validate_unit(values)
    if "name" not in errors and accounts.unit_name_taken(db.session, name, None):
        errors["name"] = accounts.UNIT_NAME_TAKEN
    # The password option is typed twice by click itself.
    account_errors, cleaned = accounts.new_account_errors(
        {"username": username, "display_name": display_name or name, "password": password},
        typed_twice=False,
    )
    errors |= account_errors
    if errors:
        for field, message in errors.items():
            click.echo(f"--{field.replace('_', '-')}: {message}", err=True)
        raise SystemExit(1)
    check_password_salt(db.session, current_app.config["SECURITY_PASSWORD_SALT"])
    unit = Unit(kind=UnitKind.COMMITTEE, **values)
    db.session.add(unit)
    db.session.flush()
    # The new tree's own discipline list, to edit at /admin/disciplines/.
    seed_default_disciplines(db.session, unit.id)
    accounts.create_account(
        unit,
        username=cleaned["username"],
        display_name=cleaned["display_name"],
        password=cleaned["password"],
        # The operator chose this password for the committee's own use.
        must_change_password=False,
        check=False,
    )
    db.session.commit()
    click.echo(f"Created committee {name} with account {cleaned['username']}.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has any unit.")
@click.option(
    "--reset",
    is_flag=True,
    help="First delete every row of every table (the schema stays), then add the demo data.",
)
@click.option("--yes", is_flag=True, help="Do not ask before --reset deletes.")
@with_appcontext
def seed_demo(if_empty, reset, yes):
    """Create the demo tree, accounts and projects (idempotent).

    ``--reset`` (``make reset-demo``) brings a local database back to exactly
    the demo data; it refuses to run when ``CME_ENV=production``.
    """
    from demo import seed

    if reset:
        if current_app.config["PRODUCTION"]:
            raise click.UsageError("--reset deletes everything: refused in production.")
        where = db.engine.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(f"Delete every row of {where}?", abort=True)
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        click.echo(f"Every row of {where} deleted.")
    elif if_empty and db.session.scalar(select(Unit.id).limit(1)) is not None:
        click.echo("The database already has data; demo data not added.")
        return
    check_password_salt(db.session, current_app.config["SECURITY_PASSWORD_SALT"])
    created = seed(db.session)
    db.session.commit()
    if created:
        click.echo(f"Demo data created: {created}.")
    else:
        click.echo("Demo data already present; nothing changed.")


@click.command("rebuild-statistics")
@with_appcontext
def rebuild_statistics():
    """Recount the 统计 page's summary tables (project_tallies, and execution_tallies
    for 统计 · 执行情况) from the projects, their history and their execution reports.

    Database triggers keep the table right through every write, including hand-written
    SQL; this is the repair after the triggers were dropped or the table was edited.
    """
    with db.engine.begin() as connection:
        rows = 0
        for module in (tally, execution_tally):
            module.rebuild(connection)
            rows += connection.exec_driver_sql(f"SELECT count(*) FROM {module.TABLE}").scalar()
    click.echo(f"Statistics recounted: {rows} rows.")


def periodic_jobs() -> None:
    """Background exports: fail the jobs whose process is gone (``jobs.reaper``), remove
    the files whose time is over."""
    import jobs.reaper

    failed, expired = jobs.reaper.maintain(db.engine, db.session)
    click.echo(f"Background exports: {failed} stopped job(s) marked failed, {expired} expired.")


def periodic_mail() -> None:
    """Notification e-mail: send the outbox (web requests never send; the job worker or the
    web process's mail thread normally has). Mail the server refused stays queued and fails
    the pass."""
    from notifications import NO_MAIL_SERVER, mail, send_queued

    if not mail.enabled():
        click.echo(f"Mail: {NO_MAIL_SERVER}")
        return
    if failed := send_queued(db.session, "Mail: "):
        raise RuntimeError(f"{failed} mail(s) not sent; they stay queued for the next pass")


def periodic_reminders() -> None:
    """催办: today's reminders and escalations (``notifications.reminders``); idempotent, so
    every minute sends each once. Before the mail task, which sends what it queued."""
    from notifications import reminders

    click.echo(f"Reminders: {reminders.run(db.session)}")


# Each periodic task: a function run in the application context that echoes what it did.
PERIODIC_TASKS = [periodic_jobs, periodic_reminders, periodic_mail]


@click.command("periodic")
@with_appcontext
def periodic():
    """One pass of every periodic task (run it from cron every minute): each task runs even
    when one before it failed; the exit status is 1 when any failed."""
    failed = []
    for task in PERIODIC_TASKS:
        try:
            task()
        except Exception:
            db.session.rollback()
            logging.getLogger(__name__).exception("periodic task %s failed", task.__name__)
            failed.append(task.__name__)
    if failed:
        click.echo(f"Failed: {', '.join(failed)}", err=True)
        raise SystemExit(1)
