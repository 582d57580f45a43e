"""The OpenAPI 3.1 document of ``/api/v1``.

Written by hand, next to the code it describes; the tests validate real responses against
it, and every schema is closed (``additionalProperties: false``) so that a field added to
the JSON without being added here fails them.
"""

from __future__ import annotations

from models import ProjectLevel, ProjectMode
from models.certificate import CertificateKind, CertificateStatus, CreditCategory, RevokeCause
from models.vocabulary import chinese, label, lecturer_label
from public import search
from public.serialize import site_url


def _nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


def _closed(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


# JSON field → the vocabulary's field whose label describes it (in Chinese, the
# language of the catalog), so the API documentation names fields like the pages do.
PROJECT_FIELD_OF = {
    "project_no": "project_no",
    "year": "year",
    "name": "name",
    "level": "level",
    "discipline": "discipline",
    "organizer": "organizer",
    "organizer_unit": "owner_unit",
    "co_organizer": "co_organizer",
    "principal": "principal",
    "principal_title": "principal_title",
    "contact": "contact",
    "phone": "phone",
    "start_date": "start_date",
    "end_date": "end_date",
    "venue": "venue",
    "mode": "mode",
    "audience": "audience",
    "planned_participants": "planned_participants",
    "theory_hours": "theory_hours",
    "practice_hours": "practice_hours",
    "total_hours": "total_hours",
    "credits": "credits",
    "remarks": "remarks",
    "lecturers": "lecturers",
    "published_at": "published_at",
    "updated_at": "updated_at",
}
LABEL_OF = {"level_label": "level", "mode_label": "mode"}


def _lecturer_schema() -> dict:
    schema = _closed(
        {
            "name": {"type": "string"},
            "title": _nullable("string"),
            "unit": _nullable("string"),
            "topic": {"type": "string"},
            "hours": _nullable("number", minimum=0),
        },
        chinese(label("lecturers")),
    )
    for name, prop in schema["properties"].items():
        prop["description"] = chinese(lecturer_label(name))
    return schema


HELD = _closed(
    {
        "start_date": {"type": "string", "format": "date", "description": "实际举办开始日期"},
        "end_date": {"type": "string", "format": "date", "description": "实际举办结束日期"},
        "learners": {"type": "integer", "minimum": 0, "description": "学员人数"},
    },
    "已举办: the project was held, as its execution report (执行情况) accepted by the"
    " committee says: the dates it was held and its number of learners. Nothing else of the"
    " report, and nothing of its roster, is public.",
)


def _project_schema() -> dict:
    schema = _closed(
        {
            "id": {"type": "integer", "minimum": 1, "description": "Stable identifier"},
            "status": {"const": "published"},
            "url": {
                "type": "string",
                "format": "uri-reference",
                "description": "This resource in the API",
            },
            "html_url": {
                "type": "string",
                "format": "uri-reference",
                "description": "Public permalink",
            },
            "project_no": {"type": "string"},
            "year": {"type": "integer"},
            "name": {"type": "string"},
            "level": {"enum": [m.value for m in ProjectLevel]},
            "level_label": {"type": "string"},
            "discipline": {"type": "string"},
            "discipline_id": {"type": "integer"},
            "organizer": {"type": "string"},
            "organizer_unit": {"type": "string"},
            "organizer_unit_id": {"type": "integer"},
            "co_organizer": _nullable("string"),
            "principal": {"type": "string"},
            "principal_title": _nullable("string"),
            "contact": {"type": "string"},
            "phone": {"type": "string"},
            "start_date": {"type": "string", "format": "date"},
            "end_date": {"type": "string", "format": "date"},
            "venue": {"type": "string"},
            "mode": {"enum": [m.value for m in ProjectMode]},
            "mode_label": {"type": "string"},
            "audience": {"type": "string"},
            "planned_participants": {"type": "integer", "minimum": 1},
            "theory_hours": {"type": "number"},
            "practice_hours": {"type": "number"},
            "total_hours": {"type": "number"},
            "credits": {"type": "number"},
            "remarks": _nullable("string"),
            "lecturers": {"type": "array", "items": {"$ref": "#/components/schemas/Lecturer"}},
            "held": {
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Held"}],
                "description": "已举办 (null until the committee accepts its execution report)",
            },
            "published_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
        "A published project (公布的项目).",
    )
    props = schema["properties"]
    for field, name in PROJECT_FIELD_OF.items():
        props[field]["description"] = chinese(label(name))
    for field, name in LABEL_OF.items():
        props[field]["description"] = f"{chinese(label(name))} (Chinese title)"
    return schema


WITHDRAWN = _closed(
    {
        "id": {"type": "integer", "minimum": 1},
        "status": {"const": "withdrawn"},
        "updated_at": {"type": "string", "format": "date-time", "description": "When withdrawn"},
    },
    "In the changes feed only: a project withdrawn from publication (撤销公布) since "
    "updated_since. Drop it from any copy of the catalog.",
)

# Absolute when the site's address (SITE_URL) is configured, else relative to the API's
# own address: never taken from the request's Host header.
LINK = {"type": "string", "format": "uri-reference"}
PROJECT_LIST = _closed(
    {
        "items": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Project"},
                    {"$ref": "#/components/schemas/WithdrawnProject"},
                ]
            },
        },
        "total": {"type": "integer", "minimum": 0, "description": "Matching rows, all pages"},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": search.PER_PAGE_MAX},
        "pages": {"type": "integer", "minimum": 1},
        "links": _closed(
            {
                "self": LINK,
                "first": LINK,
                "last": LINK,
                "prev": _nullable("string", format="uri-reference"),
                "next": _nullable("string", format="uri-reference"),
            }
        ),
    }
)

# A certificate (证书) as ``/verify/<code>`` shows it: the holder masked, the status live.
CERTIFICATE = _closed(
    {
        "number": {"type": "string", "description": "证书编号"},
        "kind": {"enum": [m.value for m in CertificateKind]},
        "kind_label": {"type": "string", "description": "学分证书 / 授课证明"},
        "status": {"enum": [m.value for m in CertificateStatus]},
        "status_label": {"type": "string", "description": "有效 / 已撤销"},
        "title": {"type": "string", "description": "The certificate's title line"},
        "name": {
            "type": "string",
            "description": "姓名, masked: the first and last character (张*明; 张* for two)",
        },
        "id_number": _nullable(
            "string", description="证件号码, masked (110***********1234); null on a 授课证明"
        ),
        "project_name": {"type": "string", "description": "项目名称"},
        "project_no": _nullable("string", description="项目编号"),
        "level": {"enum": [m.value for m in ProjectLevel]},
        "level_label": {"type": "string", "description": "项目级别"},
        "category": {"enum": [m.value for m in CreditCategory]},
        "category_label": {"type": "string", "description": "学分类别"},
        "credits": {"type": "number", "minimum": 0, "description": "学分 (0 on a 授课证明)"},
        "topic": _nullable("string", description="授课题目 (授课证明 only)"),
        "hours": _nullable("number", minimum=0, description="学时 (授课证明 only)"),
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
        "organiser": {"type": "string", "description": "主办单位"},
        "committee": {"type": "string", "description": "市继委"},
        "issued_on": {"type": "string", "format": "date", "description": "发证日期"},
        "revoked_on": _nullable("string", format="date", description="撤销日期 (Beijing)"),
        "revoke_cause": {"enum": [*(m.value for m in RevokeCause), None]},
        "revoke_cause_label": _nullable("string"),
        "revoke_reason": _nullable("string", description="撤销原因"),
        "html_url": {"type": "string", "format": "uri", "description": "证书验证 page"},
        "pdf_url": {"type": "string", "format": "uri", "description": "The certificate's PDF"},
    },
    "A certificate (证书), read live: its status changes the moment it is revoked. Nothing"
    " of its holder but the masked name and ID number.",
)

ERROR = _closed(
    {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_parameter", "not_found"]},
                "message": {"type": "string"},
                "parameter": {"type": "string", "description": "The rejected query parameter"},
            },
        }
    }
)


def _or_empty(schema: dict) -> dict:
    """``schema``, or the empty value, which the parser reads as "no filter" (the catalog's
    form sends every field, filled or not)."""
    schema = dict(schema)
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], ""]
    elif schema.get("type") == "integer":
        # maxLength applies to the string only, minimum/maximum to the integer only.
        schema.update(type=["integer", "string"], maxLength=0)
    elif "format" in schema or "pattern" in schema:
        typed = {key: schema.pop(key) for key in ("format", "pattern") if key in schema}
        schema["anyOf"] = [typed, {"maxLength": 0}]
    return schema


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": _or_empty(schema),
        "description": description,
    }


# What the search parser refuses, said in the document so that a client (and the fuzz
# test) knows: control characters in the keyword, years outside 1900-2999 in dates.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
# search.DATE_MIN to search.DATE_MAX: the years 1900 to 2999 (tests/public/test_api_fuzz.py).
YEARS_ALLOWED = "^(19|2[0-9])[0-9][0-9]-"

LIST_PARAMETERS = [
    _query(
        "q",
        {"type": "string", "maxLength": search.KEYWORD_MAX, "pattern": NO_CONTROL_CHARACTERS},
        "Keyword in the name, project number, organizer or principal (case-insensitive)."
        " Control characters (U+0000-U+001F, U+007F-U+009F) are refused (400).",
    ),
    _query(
        "year", {"type": "integer", "minimum": search.YEAR_MIN, "maximum": search.YEAR_MAX}, "年度"
    ),
    _query("level", {"enum": [m.value for m in ProjectLevel]}, "项目级别"),
    _query(
        "discipline",
        {"type": "integer", "minimum": 1, "maximum": search.ID_MAX},
        "Discipline id (学科), as in discipline_id; matches every project whose discipline"
        " has that id's name (each committee keeps its own list, with its own ids)",
    ),
    _query(
        "unit",
        {"type": "integer", "minimum": 1, "maximum": search.ID_MAX},
        "Organizer unit id, as in organizer_unit_id",
    ),
    _query(
        "date_from",
        {"type": "string", "format": "date", "pattern": YEARS_ALLOWED},
        "Projects held on or after this date (举办日期 overlapping the range).",
    ),
    _query(
        "date_to",
        {"type": "string", "format": "date", "pattern": YEARS_ALLOWED},
        "Projects held on or before this date; not before date_from.",
    ),
    _query(
        "sort",
        {"enum": list(search.SORTS), "default": search.SORT_DEFAULT},
        "Order; a leading '-' reverses it. Ignored with updated_since (change order).",
    ),
    _query("page", {"type": "integer", "minimum": 1, "maximum": search.PAGE_MAX, "default": 1}, ""),
    _query(
        "per_page",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": search.PER_PAGE_MAX,
            "default": search.PER_PAGE_DEFAULT,
        },
        "",
    ),
    _query(
        "updated_since",
        {"type": "string", "format": "date-time", "pattern": YEARS_ALLOWED},
        "Changes feed: published projects changed at or after this time (their 'held' "
        "included: an execution report accepted or set back), and projects "
        "withdrawn since then (status 'withdrawn'), oldest change first. UTC unless an "
        "offset is given. An empty value is the same as leaving it out (see the note on "
        "empty values above): the catalog, not the feed.",
    ),
]


def _json(schema_name: str, description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
        **extra,
    }


CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "Last-Modified": {"schema": {"type": "string"}},
}
NOT_MODIFIED = {"description": "Not modified since the ETag or date the client sent."}


def openapi_document() -> dict:
    """The document served at ``/api/v1/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "北京CME项目公布 open data API",
            "version": "1.0.0",
            "description": "Published continuing medical education projects (公布的继续医学"
            "教育项目). No authentication. Dates are ISO 8601; times are UTC. Responses carry "
            "ETag and Last-Modified: send If-None-Match or If-Modified-Since to get 304. "
            "Query parameters are read without surrounding blanks, and an empty one is the "
            "same as leaving it out (as the catalog's search form sends them). Links are "
            "absolute on the site's configured address, or relative to this document's.",
        },
        # SITE_URL's address, or relative to where the document was read.
        "servers": [{"url": site_url("public_api.projects").rsplit("/", 1)[0]}],
        "paths": {
            "/projects": {
                "get": {
                    "operationId": "listProjects",
                    "summary": "Search published projects",
                    "parameters": LIST_PARAMETERS,
                    "responses": {
                        "200": _json("ProjectList", "One page of results", headers=CACHE_HEADERS),
                        "304": NOT_MODIFIED,
                        "400": _json("Error", "A parameter is invalid; error.parameter names it"),
                    },
                }
            },
            "/projects/{project_id}": {
                "get": {
                    "operationId": "getProject",
                    "summary": "One published project",
                    "parameters": [
                        {
                            "name": "project_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": _json("Project", "The project", headers=CACHE_HEADERS),
                        "304": NOT_MODIFIED,
                        "404": _json("Error", "No published project has this id"),
                    },
                }
            },
            "/certificates/{code}": {
                "get": {
                    "operationId": "getCertificate",
                    "summary": "One certificate by its verification code (证书验证)",
                    "description": "What the certificate's QR code opens, as JSON. Never"
                    " cached or indexed; rate-limited per client together with the"
                    " verification page.",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 64},
                            "description": "The verification code (验证码) the QR code carries",
                        }
                    ],
                    "responses": {
                        "200": _json("Certificate", "The certificate"),
                        "404": _json("Error", "No certificate has this code"),
                        "429": _json("Error", "Too many lookups from this client: wait"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Project": _project_schema(),
                "WithdrawnProject": WITHDRAWN,
                "Lecturer": _lecturer_schema(),
                "Held": HELD,
                "ProjectList": PROJECT_LIST,
                "Certificate": CERTIFICATE,
                "Error": ERROR,
            }
        },
    }
