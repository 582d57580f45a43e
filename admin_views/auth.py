"""Login, logout, password changes and the account's session (Flask-Security-Too)."""

from flask import Flask

from extensions import security


def init_auth(app: Flask, datastore) -> None:
    security.init_app(app, datastore)
