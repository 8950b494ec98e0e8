"""Who is submitting. Three modes, chosen from the environment:

* ``space`` — on a Hugging Face Space (``SPACE_ID`` set): Hugging Face OAuth via ``gr.LoginButton``.
* ``accounts`` — ``ROUTERBOARD_USERS="alice:<hash>,bob:<hash>"``: Gradio's login form; passwords
  are stored only as PBKDF2 hashes (make one with ``routerboard hash-password``).
* ``local`` — neither: a single-user local mode (user ``local``), said so in the app's header, so a
  newcomer can submit at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

LOCAL_USER = "local"
_ITERATIONS = 200_000


def hash_password(password: str, *, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def accounts_from_env() -> dict[str, str]:
    raw = os.environ.get("ROUTERBOARD_USERS", "")
    out = {}
    for item in raw.split(","):
        if ":" in item:
            user, hashed = item.split(":", 1)
            if user.strip() and hashed.strip():
                out[user.strip()] = hashed.strip()
    return out


def mode() -> str:
    if os.environ.get("SPACE_ID"):
        return "space"
    return "accounts" if accounts_from_env() else "local"


def gradio_auth():
    """The ``auth=`` callable for ``launch`` in accounts mode, else None."""
    accounts = accounts_from_env()
    if not accounts or mode() != "accounts":
        return None
    return lambda username, password: username in accounts and verify_password(password, accounts[username])


def current_user(request: Any = None, profile: Any = None) -> str | None:
    """The signed-in user of a request, ``local`` in local mode, None when nobody is signed in."""
    m = mode()
    if m == "local":
        return LOCAL_USER
    if m == "space":
        return getattr(profile, "username", None)
    return getattr(request, "username", None) if request is not None else None


def header_note() -> str:
    m = mode()
    if m == "local":
        return ("**Local mode:** no login is configured, so everything is submitted as user `local`. "
                "Set `ROUTERBOARD_USERS` (accounts) or run on a Space (Hugging Face login) for a public deployment.")
    if m == "space":
        return "Sign in with Hugging Face to submit."
    return "Signed-in accounts only."
