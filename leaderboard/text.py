"""Making user text inert. Router names, teams and descriptions come from anyone on the internet:
every place that shows them goes through these functions, so no HTML, script or markdown link a
user writes is ever interpreted."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

# '#' and '&' stay: the text is inlined (never a line start), and '&' starts the HTML entities below.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()+\-.!|~])")


def inert(text: object) -> str:
    """Text safe inside Markdown and HTML: HTML-escaped, then Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text or ""), quote=False))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with anything that could break out of an attribute percent-encoded; else None."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%-._~").replace("'", "%27").replace("(", "%28").replace(")", "%29")


def html_link(label: str, url: str | None) -> str:
    """``label`` as escaped HTML, a link opening in a new tab when ``url`` is a safe http(s) URL."""
    text = html.escape(label or "", quote=True)
    href = safe_url(url)
    if not href:
        return text
    return f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer nofollow">{text}</a>'
