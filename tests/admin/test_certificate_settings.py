"""证书设置 (/admin/certificate-settings/): the committee's number format, title line and
seals. Only the committee opens it; a bad format, a file that is not a PNG, a PNG too
large in bytes or pixels, a damaged one: a Chinese message and nothing stored. A seal is
stored re-encoded (nothing of the file but its pixels), previewed from a scoped route and
removed by a button. Both databases."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from certificates import settings as certificate_settings
from models import Certificate, CertificateSettings, Seal
from models.base import beijing_today
from models.certificate import DEFAULT_NUMBER_FORMAT
from tests.refusals import assert_not_found, assert_refused_with

PAGE = "/admin/certificate-settings/"


def png(width: int = 120, height: int = 60, *, mode: str = "RGBA", noise: bool = False, **info):
    """A PNG of the given size (random pixels when ``noise``: it compresses badly)."""
    if noise:
        image = Image.frombytes(mode, (width, height), os.urandom(width * height * len(mode)))
    else:
        image = Image.new(mode, (width, height), (200, 0, 0, 180) if mode == "RGBA" else 128)
    meta = PngImagePlugin.PngInfo()
    for key, value in info.items():
        meta.add_text(key, value)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 0, 200)).save(out, format="JPEG")
    return out.getvalue()


def seals(session) -> dict[int, bytes]:
    session.expire_all()
    return {s.unit_id: s.png for s in session.scalars(select(Seal))}


def upload(browser, unit_id: int, data: bytes, filename: str = "seal.png"):
    return browser.post(
        f"{PAGE}seal",
        {"unit": str(unit_id), "seal": (io.BytesIO(data), filename)},
        token_from=PAGE,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.mark.parametrize("username", ["bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch"])
def test_only_the_committee_opens_the_settings(login_as, demo_accounts, username):
    browser = login_as(username)
    assert_refused_with(browser.get(PAGE), 403)
    committee = demo_accounts["bjcme"].unit_id
    assert_refused_with(browser.get(f"{PAGE}seal/{committee}.png"), 403)
    # Not in the menu either.
    assert PAGE not in browser.get("/admin/").get_data(as_text=True)


def test_the_page_explains_the_format_and_previews_the_next_number(login_as, session):
    browser = login_as("bjcme")
    text = browser.get(PAGE).get_data(as_text=True)
    assert "证书设置" in text and "证书编号格式" in text and "证书标题" in text
    assert "{year}" in text and "{serial:06d}" in text
    year = session.scalar(select(func.max(Certificate.year)))
    assert year is not None
    # The menu of the committee lists 证书 and 证书设置.
    menu = browser.get("/admin/").get_data(as_text=True)
    assert "/admin/certificates/" in menu and PAGE in menu


def test_saving_the_format_and_title(login_as, session, demo_accounts):
    committee = demo_accounts["bjcme"].unit_id
    browser = login_as("bjcme")
    response = browser.post(
        PAGE,
        {"number_format": "JJ{year}/{serial:05d}", "title": "继续医学教育学分证书"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "证书设置已保存。" in text
    session.expire_all()
    stored = session.get(CertificateSettings, committee)
    assert (stored.number_format, stored.title) == ("JJ{year}/{serial:05d}", "继续医学教育学分证书")
    year = beijing_today().year
    expected = certificate_settings.next_number(session, committee, stored.number_format, year)
    assert expected.startswith(f"JJ{year}/") and expected in text


@pytest.mark.parametrize(
    ("number_format", "title", "message"),
    [
        ("BJCME-{serial:06d}", "证书", "请用 {year}（年度）和 {serial}（序号）填写格式"),
        ("证书{year}-{serial}", "证书", "只能包含字母、数字"),
        ("{year}-{serial}-{name}", "证书", "请用 {year}（年度）和 {serial}（序号）填写格式"),
        ("{year}-{serial", "证书", "请用 {year}（年度）和 {serial}（序号）填写格式"),
        ("", "证书", "此项为必填项"),
        ("{year}-{serial}", "", "此项为必填项"),
        ("{year}-{serial}", "证" * 101, "证书标题最多 100 个字"),
        ("{year}-{serial}", "证书\n标题", "只能填写一行文字"),
    ],
)
def test_a_bad_format_or_title_is_refused_and_nothing_stored(
    login_as, session, demo_accounts, number_format, title, message
):
    committee = demo_accounts["bjcme"].unit_id
    browser = login_as("bjcme")
    response = browser.post(PAGE, {"number_format": number_format, "title": title})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text, text[text.find("invalid-feedback") - 200 :][:600]
    assert "is-invalid" in text
    session.expire_all()
    assert session.get(CertificateSettings, committee) is None
    assert certificate_settings.current_settings(session, committee).number_format == (
        DEFAULT_NUMBER_FORMAT
    )


def test_a_seal_is_stored_re_encoded_previewed_and_removed(login_as, session, demo_accounts):
    committee = demo_accounts["bjcme"].unit_id
    organiser = demo_accounts["pumch"].unit_id
    browser = login_as("bjcme")
    original = png(secret="作者的备注") + b"trailing bytes after IEND"
    text = upload(browser, committee, original).get_data(as_text=True)
    assert "的印章已保存" in text
    stored = seals(session)[committee]
    assert stored != original and b"trailing" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (120, 60)
        assert "secret" not in image.info
    # Previewed from the scoped route, listed among the stored seals.
    preview = browser.get(f"{PAGE}seal/{committee}.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.get_data() == stored
    page = browser.get(PAGE).get_data(as_text=True)
    assert f"{PAGE}seal/{committee}.png" in page

    # An organiser of the tree: chosen in the select, stored, previewed.
    assert f'<option value="{organiser}">' in page
    upload(browser, organiser, png(300, 300))
    assert set(seals(session)) == {committee, organiser}
    assert browser.get(f"{PAGE}seal/{organiser}.png").status_code == 200

    # Removed by its button.
    response = browser.post(
        f"{PAGE}seal/{organiser}/remove", token_from=PAGE, follow_redirects=True
    )
    assert "的印章已删除" in response.get_data(as_text=True)
    assert set(seals(session)) == {committee}
    assert_not_found(browser.get(f"{PAGE}seal/{organiser}.png"))


def test_a_unit_outside_the_tree_is_not_found(login_as, session):
    before = seals(session)  # the demo's own (the committee's and pumch's)
    browser = login_as("bjcme")
    for unit in ("999999", "0", "x"):
        response = browser.post(
            f"{PAGE}seal",
            {"unit": unit, "seal": (io.BytesIO(png()), "seal.png")},
            token_from=PAGE,
            content_type="multipart/form-data",
        )
        assert_not_found(response)
    assert_not_found(browser.get(f"{PAGE}seal/999999.png"))
    assert seals(session) == before


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "seal.png", "请先选择印章的 PNG 图片文件"),
        (jpeg(), "seal.png", "印章必须是 PNG 图片"),
        ("这不是图片".encode(), "seal.png", "印章必须是 PNG 图片"),
        (b"GIF89a" + b"\x00" * 40, "seal.png", "印章必须是 PNG 图片"),
        (png()[:60], "seal.png", "无法读取印章图片"),
        (png(2001, 10, mode="L"), "seal.png", "最大 2000 × 2000 像素，此图片为 2001 × 10"),
        (png(600, 600, mode="RGB", noise=True), "seal.png", "印章图片最大 512 KB"),
    ],
    ids=["empty", "jpeg", "text", "gif", "truncated", "too-wide", "too-heavy"],
)
def test_a_bad_seal_is_refused_in_chinese_and_nothing_stored(
    login_as, session, demo_accounts, data, filename, message
):
    committee = demo_accounts["bjcme"].unit_id
    before = seals(session)
    browser = login_as("bjcme")
    text = upload(browser, committee, data, filename).get_data(as_text=True)
    assert "印章未保存" in text and message in text, message
    assert seals(session) == before


def test_a_refused_seal_keeps_the_one_stored(login_as, session, demo_accounts):
    committee = demo_accounts["bjcme"].unit_id
    browser = login_as("bjcme")
    upload(browser, committee, png())
    kept = seals(session)
    upload(browser, committee, jpeg())
    assert seals(session) == kept
