"""One word per field: the vocabulary names every field once, in both languages, and the
admin, the public exports and the API documentation take their labels from it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask_babel import force_locale

from admin_views.projects import AuditView, MyProjectsView
from models import rules, vocabulary
from public import openapi, serialize


def _texts(labels, locale: str) -> list[str]:
    with force_locale(locale):
        return [str(text) for text in labels.values()]


def test_every_field_has_one_label_and_no_two_fields_share_one(app_context):
    assert set(rules.PROJECT_FIELDS) <= set(vocabulary.PROJECT_LABELS)
    assert list(vocabulary.PROJECT_FIELDS_LABELS) == list(rules.PROJECT_FIELDS)
    for labels in (vocabulary.PROJECT_LABELS, vocabulary.LECTURER_LABELS):
        for locale in ("zh_Hans_CN", "en"):
            texts = _texts(labels, locale)
            assert len(set(texts)) == len(texts), (locale, texts)
    with force_locale("zh_Hans_CN"):
        assert str(vocabulary.label("principal")) == "项目负责人"
        assert str(vocabulary.label("owner_unit")) == "申报单位"


def test_required_flags_follow_the_rules():
    assert vocabulary.is_required("name") and not vocabulary.is_required("remarks")
    assert not vocabulary.is_required("project_no")
    assert vocabulary.is_required("project_no", issuer=True)


def test_the_admin_and_the_exports_use_the_vocabulary(app_without_db):
    for view in (MyProjectsView, AuditView):
        for name in view.column_details_list:
            assert view.column_labels[name] is vocabulary.label(name)
        for name, header in view.export_columns:
            assert header is vocabulary.label(name)
    with app_without_db.test_request_context("/"), force_locale("zh_Hans_CN"):
        headers = serialize.export_headers()
        assert headers == [str(vocabulary.label(n)) for n in serialize.EXPORT_COLUMNS]
        schema = openapi.openapi_document()["components"]["schemas"]["Project"]
    assert schema["properties"]["principal"]["description"] == "项目负责人"
    assert schema["properties"]["organizer_unit"]["description"] == "申报单位"


def test_a_msgid_means_the_same_in_every_catalog():
    """The catalogs are merged at run time and the last one wins: a msgid translated
    two ways would show the last catalog's word on every page, whatever the other meant."""
    catalogs = Path(__file__).resolve().parent.parent / "translations" / "zh_Hans_CN"
    seen: dict[str, set] = {}
    for domain in ("messages", "panel", "accounts", "public"):
        with (catalogs / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
            for message in read_po(f):
                if message.id and isinstance(message.id, str):
                    seen.setdefault(message.id, set()).add(message.string)
    assert {msgid: strings for msgid, strings in seen.items() if len(strings) > 1} == {}
