"""The public catalog of published projects and its open-data API (no login)."""

from flask import Flask, redirect, url_for


def init_public(app: Flask) -> None:
    @app.get("/")
    def index():
        return redirect(url_for("security.login"))
