"""Article text and model output shown as text, never as markup: escaping for Streamlit's Markdown.

Streamlit's Markdown does not render raw HTML unless told to (and we never tell it), but Markdown
itself would turn `![x](http://...)` into an image fetched from an outside address and `[t](url)`
into a link; `:color[...]` and `:emoji:` are Streamlit directives. Escaping every punctuation
character Markdown or Streamlit treats specially leaves only plain, inert text.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^])")


def md_escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def highlighted(paragraph: str, start: int, end: int) -> str:
    """The paragraph as inert Markdown, with paragraph[start:end] highlighted."""
    return (md_escape(paragraph[:start]) + ":orange-background[" + md_escape(paragraph[start:end]) + "]"
            + md_escape(paragraph[end:]))
