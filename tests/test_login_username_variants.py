"""The lockout and the per-username rate limit see one username however it is
typed: full-width letters, upper case, surrounding blanks and compatibility
characters (superscript letters, ligatures) normalise (NFKC, then case folding)
to the name the login finds the account by, so none of them is a fresh name with
fresh tries, and none of them clears a lock. Through the HTML form and the JSON
login, on both databases, and across two app instances sharing Redis."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from accounts import create_account
from demo import DEMO_PASSWORD
from models import AuditEntry, AuditEvent, LoginThrottle, Unit
from tests.admin.conftest import own_context_browser
from tests.redis_server import require_shared_redis
from tests.test_security_login import REDIS_URL

LOCKED = "已被暂时锁定"
GENERIC_FAILURE = "用户名或密码错误"
WRONG = "wrong-password-1"

# Each of these is ``tcm_acu`` to the login (Flask-Security: strip, NFKC, then a
# case-insensitive look-up).
VARIANTS = {
    "full-width letters": "ｔｃｍ_ａｃｕ",
    "full-width letters and low line": "ｔｃｍ＿ａｃｕ",
    "upper case": "TCM_ACU",
    "mixed full-width upper case": "ＴＣＭ_ａｃｕ",
    "surrounding blanks": "  tcm_acu\t",
    "ideographic spaces": "\u3000tcm_acu\u3000",
    "superscript letters": "ᵗᶜᵐ_ᵃᶜᵘ",
    "mathematical bold letters": "𝐭𝐜𝐦_𝐚𝐜𝐮",
}


class Login:
    """Logs in through the HTML form or the JSON login, answering (status, text)."""

    def __init__(self, app, via: str):
        self.browser = own_context_browser(app)
        self.via = via

    def __call__(self, username: str, password: str = DEMO_PASSWORD) -> tuple[int, str]:
        if self.via == "html":
            response = self.browser.login(username, password)
        else:
            response = self.browser.client.post(
                "/login",
                json={"username": username, "password": password},
                headers={"X-CSRFToken": self.browser.token()},
            )
        if response.is_json:
            return response.status_code, json.dumps(response.get_json(), ensure_ascii=False)
        return response.status_code, response.get_data(as_text=True)

    def signed_in(self) -> bool:
        return self.browser.get("/admin/").status_code == 200


def _succeeded(answer: tuple[int, str], via: str) -> bool:
    return answer[0] == (302 if via == "html" else 200)


def _lock(login: Login, username: str, failures: int) -> None:
    for _ in range(failures - 1):
        _status, text = login(username, WRONG)
        assert LOCKED not in text, "locked too early"
    assert LOCKED in login(username, WRONG)[1]


@pytest.mark.parametrize("via", ["html", "json"])
@pytest.mark.parametrize("variant", list(VARIANTS.values()), ids=list(VARIANTS))
def test_a_variant_of_a_locked_username_is_refused_and_clears_nothing(make_app, via, variant):
    app = make_app()
    _lock(Login(app, via), "tcm_acu", 10)

    attacker = Login(app, via)
    status, text = attacker(variant)
    assert LOCKED in text and not _succeeded((status, text), via)
    assert not attacker.signed_in()
    # The lock is still there for the name itself.
    owner = Login(app, via)
    assert LOCKED in owner("tcm_acu")[1]
    assert not owner.signed_in()


@pytest.mark.parametrize("via", ["html", "json"])
def test_failures_through_variants_count_towards_one_lock(make_app, session, via, demo_accounts):
    app = make_app(LOGIN_LOCKOUT_FAILURES=len(VARIANTS))
    login = Login(app, via)
    answers = [login(variant, WRONG)[1] for variant in VARIANTS.values()]
    assert [LOCKED in text for text in answers] == [False] * (len(VARIANTS) - 1) + [True]
    assert LOCKED in Login(app, via)("tcm_acu")[1]
    # Kept against the account, and logged against it whatever was typed.
    session.expire_all()
    rows = session.scalars(select(LoginThrottle)).all()
    assert [row.username for row in rows] == [f"account:{demo_accounts['tcm_acu'].id}"]
    locked = session.scalars(select(AuditEntry).where(AuditEntry.event == AuditEvent.LOCKED)).all()
    assert [entry.account_id for entry in locked] == [demo_accounts["tcm_acu"].id]


@pytest.mark.parametrize("via", ["html", "json"])
def test_a_variant_logs_in_when_not_locked(make_app, via):
    """Normalising is not refusing: the variants name the account, as before."""
    app = make_app()
    for variant in ("ｔｃｍ_ａｃｕ", " TCM_ACU "):
        login = Login(app, via)
        assert _succeeded(login(variant), via)
        assert login.signed_in()


def test_a_ligature_names_the_account_it_normalises_to(make_app, session, demo_accounts):
    unit = session.get(Unit, demo_accounts["tcm_acu"].unit_id)
    create_account(
        unit, username="office_fi", display_name="测试", password=DEMO_PASSWORD, check=False
    )
    session.commit()
    app = make_app(LOGIN_LOCKOUT_FAILURES=3)
    login = Login(app, "html")
    _lock(login, "oﬃce_ﬁ", 3)  # "ﬃ" and "ﬁ" are ligatures of ffi and fi
    assert LOCKED in Login(app, "html")("office_fi")[1]
    assert LOCKED in Login(app, "json")("OFFICE_FI")[1]


@pytest.mark.parametrize("via", ["html", "json"])
def test_unknown_names_are_counted_per_normalised_name(make_app, via):
    """An unknown name's variants share its count too, and get the answers a
    real name gets."""
    app = make_app(LOGIN_LOCKOUT_FAILURES=3)
    unknown = [Login(app, via)(name, WRONG)[1] for name in ("ｎｏｂｏｄｙ", "NOBODY", " nobody ")]
    known = [Login(app, via)(name, WRONG)[1] for name in ("ｔｃｍ_ａｃｕ", "TCM_ACU", " tcm_acu ")]
    assert [LOCKED in text for text in unknown] == [LOCKED in text for text in known]
    assert [LOCKED in text for text in known] == [False, False, True]


def test_the_superior_unlock_lifts_the_lock_made_through_a_variant(make_app, demo_accounts):
    app = make_app(LOGIN_LOCKOUT_FAILURES=2)
    _lock(Login(app, "html"), "ＴＣＭ_ＡＣＵ", 2)
    superior = own_context_browser(app)
    assert superior.login("bjtcm").status_code == 302
    page = superior.post(
        "/admin/users/action/",
        {"action": "unlock", "rowid": [str(demo_accounts["tcm_acu"].id)]},
        token_from="/admin/users/",
        follow_redirects=True,
    )
    assert "已解除锁定 1 个帐号" in page.get_data(as_text=True)
    assert _succeeded(Login(app, "html")("tcm_acu"), "html")


@pytest.mark.parametrize("via", ["html", "json"])
def test_variants_share_the_per_username_rate_limit(make_app, via):
    app = make_app(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute")
    login = Login(app, via)
    codes = [login(name, WRONG)[0] for name in ("tcm_acu", "ＴＣＭ_ＡＣＵ", " Tcm_Acu ", "ᵗᶜᵐ_ᵃᶜᵘ")]
    assert codes[-1] == 429 and 429 not in codes[:-1]
    # Another name has its own count.
    assert login("bma_peds", WRONG)[0] != 429


def test_json_logins_are_counted_per_username_not_together(make_app):
    app = make_app(LOGIN_RATE_LIMIT_PER_USERNAME="2 per minute")
    login = Login(app, "json")
    assert [login("nobody_a", WRONG)[0] for _ in range(3)][-1] == 429
    assert login("nobody_b", WRONG)[0] != 429


def _shared_redis_config(**limits) -> dict:
    require_shared_redis()
    return {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        # This test's own prefix: other runs sharing the server do not interfere.
        "RATELIMIT_KEY_PREFIX": f"cme-test-variants-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per minute",
        **limits,
    }


def test_two_app_instances_sharing_redis_honour_one_lock(make_app):
    config = _shared_redis_config(
        LOGIN_LOCKOUT_FAILURES=4, LOGIN_RATE_LIMIT_PER_USERNAME="1000 per minute"
    )
    first, second = make_app(**config), make_app(**config)
    # Failures through both instances, each with another spelling, make one lock.
    answers = [
        Login(first, "html")("ｔｃｍ_ａｃｕ", WRONG)[1],
        Login(second, "json")("TCM_ACU", WRONG)[1],
        Login(first, "json")(" tcm_acu ", WRONG)[1],
        Login(second, "html")("ᵗᶜᵐ_ᵃᶜᵘ", WRONG)[1],
    ]
    assert [LOCKED in text for text in answers] == [False, False, False, True]
    for app in (second, first):
        for via in ("html", "json"):
            for name in ("tcm_acu", *VARIANTS.values()):
                login = Login(app, via)
                assert LOCKED in login(name)[1], (via, name)
                assert not login.signed_in()
    assert LOCKED in Login(second, "html")("tcm_acu")[1]


def test_two_app_instances_sharing_redis_count_every_spelling_together(make_app):
    config = _shared_redis_config(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute")
    first, second = make_app(**config), make_app(**config)
    codes = [
        Login(first, "html")("ｔｃｍ_ａｃｕ", WRONG)[0],
        Login(second, "json")("TCM_ACU", WRONG)[0],
        Login(first, "json")(" tcm_acu ", WRONG)[0],
        Login(second, "html")("tcm_acu", DEMO_PASSWORD)[0],
    ]
    assert codes[-1] == 429 and 429 not in codes[:-1]
