"""Login modes and the inert-text helpers."""

from types import SimpleNamespace

from leaderboard import auth
from leaderboard.text import html_link, inert, safe_url


def test_modes_and_current_user(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("ROUTERBOARD_USERS", raising=False)
    assert auth.mode() == "local" and auth.current_user() == "local" and auth.gradio_auth() is None
    monkeypatch.setenv("ROUTERBOARD_USERS", f"alice:{auth.hash_password('pw')}")
    assert auth.mode() == "accounts"
    check = auth.gradio_auth()
    assert check("alice", "pw") and not check("alice", "nope") and not check("bob", "pw")
    assert auth.current_user(SimpleNamespace(username="alice")) == "alice"
    assert auth.current_user(None) is None
    monkeypatch.setenv("SPACE_ID", "org/space")
    assert auth.mode() == "space" and auth.gradio_auth() is None
    assert auth.current_user(None, SimpleNamespace(username="hf-user")) == "hf-user"
    assert auth.current_user(None, None) is None


def test_password_hashes_are_salted_and_verified():
    a, b = auth.hash_password("secret"), auth.hash_password("secret")
    assert a != b and a.startswith("pbkdf2_sha256$") and "secret" not in a
    assert auth.verify_password("secret", a) and not auth.verify_password("Secret", a)
    assert not auth.verify_password("secret", "garbage")


def test_inert_text_and_links():
    assert "<" not in inert("<script>alert(1)</script>") and "\\[x\\]\\(javascript" in inert("[x](javascript:1)")
    assert safe_url("javascript:alert(1)") is None and safe_url("ftp://x") is None
    assert safe_url('https://a.org/p?q="x"') is not None and '"' not in safe_url('https://a.org/"x"')
    link = html_link("<b>name</b>", "https://example.org/paper")
    assert link.startswith('<a href="https://example.org/paper" target="_blank" rel="noopener noreferrer nofollow">')
    assert "&lt;b&gt;name&lt;/b&gt;" in link
    assert html_link("x", "javascript:alert(1)") == "x"
