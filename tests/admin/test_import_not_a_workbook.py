"""A file that is no workbook (issue 26): a PDF, a Word document, a web page, a
text file, whatever its name says, is told so in the projects' import and in a
roster's ("所选文件不是 Excel 工作簿（.xlsx）或 CSV 文件，请下载模板填写后再上传。"),
never "缺少的列" of the template's sixteen columns; and nothing is written. A real
CSV still reads (the same heuristics must not refuse the template's own files).
Both databases."""

from __future__ import annotations

import io
import zipfile

import pytest

from imports import reader
from imports.archive import FileRefused
from models import ImportBatch, Project
from tests.admin.test_import import count, flashed, upload
from tests.admin.test_roster_import import flashed as roster_flashed
from tests.admin.test_roster_import import page, state_of

NOT_A_WORKBOOK = "所选文件不是 Excel 工作簿（.xlsx）或 CSV 文件，请下载模板填写后再上传。"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>项目名称</w:document>")
    return out.getvalue()


LETTER = "关于举办继续医学教育项目的通知\n各有关单位：\n现将有关事项通知如下。\n".encode()
FILES = {
    "a pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", "项目.pdf"),
    "a pdf named .xlsx": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "项目.xlsx"),
    "a word document": (docx(), "项目申报.docx"),
    "a word document named .xlsx": (docx(), "项目申报.xlsx"),
    "a web page named .csv": ("<!DOCTYPE html><html><body>项目</body></html>".encode(), "p.csv"),
    "a letter": (LETTER, "通知.txt"),
    "a letter named .csv": (LETTER, "通知.csv"),
    "a letter in GB18030": (LETTER.decode().encode("gb18030"), "通知.csv"),
    "json": ('{"项目名称": "x"}'.encode(), "projects.csv"),
    "an image": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "scan.png"),
}


@pytest.mark.parametrize("kind", list(FILES))
def test_the_project_import_says_the_file_is_no_workbook(branch, kind):
    data, filename = FILES[kind]
    before = count(Project), count(ImportBatch)
    response = upload(branch, data, filename)
    assert response.status_code == 302
    page_text = flashed(branch)
    assert NOT_A_WORKBOOK in page_text, kind
    assert "缺少的列" not in page_text
    assert (count(Project), count(ImportBatch)) == before


@pytest.mark.parametrize("kind", ["a pdf", "a word document named .xlsx", "a letter named .csv"])
def test_the_roster_import_says_the_file_is_no_workbook(login_as, session, report, kind):
    owner = login_as("bma_cardio")
    data, filename = FILES[kind]
    before = state_of(session, report)
    response = upload(owner, data, filename, page=page(report))
    assert response.headers["Location"].endswith(page(report))
    text = roster_flashed(owner, report)
    assert NOT_A_WORKBOOK in text and "缺少的列" not in text
    assert state_of(session, report) == before


@pytest.mark.parametrize(
    ("filename", "read"),
    [
        ("projects.csv", True),
        ("PROJECTS.CSV", True),
        ("projects.xlsx", True),
        ("roster.xls", True),
        ("projects", True),  # no ending: judged by its bytes
        ("C:\\Users\\me\\projects.csv", True),
        (".csv", True),
        ("projects.csv.pdf", False),
        ("projects.txt", False),
        ("projects.docx", False),
    ],
)
def test_the_name_refuses_only_another_type(filename, read):
    assert reader.named_as_spreadsheet(filename) is read


def test_a_csv_of_the_templates_columns_still_reads(app):
    data = "序号,项目名称,主办单位\n1,心血管新进展,北京协和医院\n".encode()
    with app.test_request_context():
        upload_ = reader.read("projects.csv", data)
    assert upload_.main.headers == ["序号", "项目名称", "主办单位"]
    assert upload_.main.rows == [(2, ["1", "心血管新进展", "北京协和医院"])]
    with app.test_request_context(), pytest.raises(FileRefused):
        reader.read("projects.csv", "项目名称\n心血管新进展\n".encode())
