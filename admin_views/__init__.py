"""The admin panel (Flask-Admin), Chinese by default."""

from pathlib import Path

from flask import Flask
from flask_admin.theme import Bootstrap4Theme
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from admin_views import (
    accounts,
    help,
    imports,
    jobs,
    messages,
    projects,
    reminders,
    security_log,
    windows,
)
from admin_views import certificates as certificate_views
from admin_views.base import guard_request, local_time
from admin_views.dashboard import Dashboard
from admin_views.execution_report import register as register_execution_report
from admin_views.executions import register as register_executions
from admin_views.filing_rules import register as register_rules
from admin_views.forms import bounded
from admin_views.menu import add_project_search
from admin_views.registry import PanelAdmin
from admin_views.roster_import import register as register_roster_import
from admin_views.signin_sheet import register as register_signin_sheet
from admin_views.statistics import register as register_statistics
from models.vocabulary import template_vocabulary
from security_headers import csp_nonce


def init_admin(app: Flask) -> PanelAdmin:
    # One Admin per app: Flask-Admin views are singletons bound to their Admin.
    # PanelAdmin keeps our own list of the views added (admin_views/registry.py).
    admin = PanelAdmin(
        app,
        # Lazy: the brand, every <title> and 首页 in the account's language.
        name=_l("Beijing CME Project Filing and Publication System"),
        theme=Bootstrap4Theme(fluid=True, base_template="admin/cme_base.html"),
        index_view=Dashboard(name=_l("Home"), url="/admin"),
        translations_path=str(Path(__file__).resolve().parent.parent / "translations"),
        # Every inline <script> of Flask-Admin's templates and ours carries the nonce
        # of the response's Content-Security-Policy.
        csp_nonce_generator=csp_nonce,
    )
    # One way to show a time (Beijing, to the minute) and one set of field
    # labels, for every template of the panel.
    app.add_template_filter(local_time, "local_time")
    # One way to write a count: its thousands separator ("20,028 行").
    app.add_template_filter(format_decimal, "number")
    # Ids, pages and NUL characters bounded before any panel view reads them.
    app.before_request(guard_request)
    app.context_processor(template_vocabulary)
    # A text drawn without a form gets its limit and counter: {{ bounded('reason') }}.
    app.add_template_global(bounded, "bounded")
    projects.register(admin)
    add_project_search(admin)  # 项目查询, after the project lists
    register_executions(admin)  # 执行情况 lists, after the project lists
    certificate_views.register(admin)  # 证书, after the 执行情况 lists
    imports.register(admin)
    accounts.register(admin)
    register_statistics(admin)
    register_rules(admin)
    windows.register(admin)  # 申报时间, beside 备案规则
    reminders.register(admin)  # 催办 settings and the reminders sent
    certificate_views.register_settings(admin)  # 证书设置, beside 备案规则
    security_log.register(admin)
    help.register(admin)
    messages.register(admin)
    jobs.register(admin)
    register_roster_import(admin)  # 学员名单导入 / 导出 of an execution report, not in the menu
    register_execution_report(admin)
    register_signin_sheet(admin)  # 签到 (QR sign-in of an execution report), not in the menu
    return admin
