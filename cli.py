"""Command-line interface: ``flask --app app <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_security import hash_password
from sqlalchemy import select

from extensions import db
from models import Unit, UnitKind, User, rules


def register(app: Flask) -> None:
    app.cli.add_command(create_committee)
    app.cli.add_command(seed_demo)


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
    """Create a committee unit (the top of a tree) and its first account."""
    values = {
        "name": name,
        "address": address,
        "manager": manager,
        "phone": phone,
        "postal_code": postal_code,
    }
    errors = rules.validate_unit(values)
    if db.session.scalar(select(Unit.id).where(Unit.parent_id.is_(None), Unit.name == name)):
        errors["name"] = f"a committee named {name} exists already"
    if db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = f"the username {username} is taken"
    if len(password) < 10:
        errors["password"] = "use at least 10 characters"
    if errors:
        for field, message in errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1)
    unit = Unit(kind=UnitKind.COMMITTEE, **values)
    user = User(
        username=username,
        display_name=display_name or name,
        unit=unit,
        password=hash_password(password),
        fs_uniquifier=_uniquifier(),
    )
    db.session.add_all([unit, user])
    db.session.commit()
    click.echo(f"Created committee {name} with account {username}.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has any unit.")
@with_appcontext
def seed_demo(if_empty):
    """Create the demo tree, accounts and projects of SPEC §6 (idempotent)."""
    from demo import seed

    if if_empty and db.session.scalar(select(Unit.id).limit(1)) is not None:
        click.echo("The database already has data; demo data not added.")
        return
    created = seed(db.session)
    db.session.commit()
    if created:
        click.echo(f"Demo data created: {created}.")
    else:
        click.echo("Demo data already present; nothing changed.")


def _uniquifier() -> str:
    import uuid

    return uuid.uuid4().hex
