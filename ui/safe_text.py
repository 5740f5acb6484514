"""User text on a page is always text: never markdown, HTML, links or images.

Streamlit renders the body of ``st.markdown``, ``st.error``, ``st.warning``,
``st.info``, ``st.success`` and ``st.caption`` as GitHub-flavoured markdown
with its own extras (``:red[...]``, ``:material/...:``, ``$LaTeX$``), so a
drug name, an extra key echoed by pydantic, a file name, a ``?pump=`` value or
an uploaded patient story could draw an off-site image or a fake "log in again"
link. Every piece of user-derived text goes through ``md`` (inline, escaped)
or ``code`` (a code span) before it is put into such a string.
"""
from __future__ import annotations

import re

# What makes markdown more than text: links and images ([ ]), autolinks (<...>), code (`),
# emphasis (*, ~), headings (#), tables (|), entities (&), LaTeX ($) and Streamlit's :red[...] /
# :material/icon: directives (a colon before a letter). Escaped with a backslash, which CommonMark
# allows before any ASCII punctuation; other characters are left readable (an intraword _ or a
# "00:00" is not markup).
_MARKUP = re.compile(r"([\\`*\[\]<>#|~$&]|:(?=[A-Za-z]))")
# GitHub's autolinks of bare addresses (http://..., www...., name@host) survive backslash escapes
# in Streamlit's renderer: an invisible word joiner after the scheme (or before the @) breaks them.
_AUTOLINK = re.compile(r"(?i)(?<![a-z])(https?|ftp|www)(?=\\?[:.])|(?=@)")
_JOINER = "\u2060"


def md(text: object, max_chars: int | None = 2000) -> str:
    """``text`` as markdown that shows exactly those characters (no markup, no links, no autolinks).

    Line breaks are kept as hard breaks; very long text is shortened with a note."""
    s = str(text)
    note = ""
    if max_chars is not None and len(s) > max_chars:
        s, note = s[:max_chars], f" ... ({len(str(text)) - max_chars:,} more characters not shown)"
    s = _MARKUP.sub(r"\\\1", s.replace("\r", ""))
    s = _AUTOLINK.sub(lambda m: (m.group(1) or "") + _JOINER, s)
    return "  \n".join(s.split("\n")) + note


def code(text: object, max_chars: int = 200) -> str:
    """``text`` as a one-line code span (nothing inside a code span is markup)."""
    s = str(text).replace("`", "'").replace("\n", " ").replace("\r", " ")
    if len(s) > max_chars:
        s = s[:max_chars] + "..."
    return f"`{s}`" if s.strip() else "` `"
