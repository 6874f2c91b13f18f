"""Article text and model output shown as text, never as markup: escaping for Streamlit's Markdown.

Streamlit's Markdown does not render raw HTML unless told to (and we never tell it), but Markdown
itself would turn `![x](http://...)` into an image fetched from an outside address and `[t](url)`
into a link; `:color[...]` and `:emoji:` are Streamlit directives. Escaping every punctuation
character Markdown or Streamlit treats specially leaves only plain text, except for one thing
escaping cannot stop: GitHub-flavoured Markdown links bare addresses (`https://…`, `www.…`,
`name@host.org`) found in plain text, escaped or not. A word joiner (U+2060, invisible, no break)
inside each such address keeps it as inert text.
"""

from __future__ import annotations

import re

from rag.dates import human_date  # noqa: F401  (one date format: the app's labels import it from here)

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^])")
_JOINER = "\u2060"
# What GFM's autolink-literal extension recognises: a scheme, `www.`, or an e-mail address's `@`.
_ADDRESS = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp)(?=:)|\b(www)(?=\.)|(?<=[\w.+-])(@)(?=[\w-])")
_MARKER = re.compile(r"\[(\d{1,4})\]")
# One cited piece of an answer: text, then its markers, then the punctuation that follows them.
_CITED_PIECE = re.compile(r"(.*?)((?:\s*\[\d{1,4}\])+)([.,;:!?]*)\s*", re.DOTALL)


def inert(text: str) -> str:
    """`text` with every address a Markdown renderer would link broken by an invisible word joiner."""
    return _ADDRESS.sub(lambda m: (m.group(1) or m.group(2) or "") + _JOINER + ("@" if m.group(3) else ""), text)


def md_escape(text: str) -> str:
    """`text` as Markdown that renders exactly as the text: no markup, no links, no directives."""
    return _SPECIAL.sub(r"\\\1", inert(text)).replace("\n", "  \n")


def _mark(line: str) -> str:
    """One line of a highlighted quote, bold on a highlighter yellow (.streamlit/config.toml); spaces outside."""
    core = line.strip()
    if not core:
        return md_escape(line)
    lead, trail = line[:len(line) - len(line.lstrip())], line[len(line.rstrip()):]
    return f"{md_escape(lead)}:yellow-background[**{md_escape(core)}**]{md_escape(trail)}"


def highlighted(paragraph: str, spans: list[tuple[int, int]]) -> str:
    """The paragraph as inert Markdown, with each paragraph[start:end] of `spans` highlighted (spans that
    overlap or touch are marked as one).

    A quote may span a line or paragraph break; a Markdown directive cannot, so each line of the
    quote is marked on its own.
    """
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(md_escape(paragraph[position:start]))
        out.append("\n".join(_mark(line) for line in paragraph[start:end].split("\n")).replace("\n", "  \n"))
        position = end
    return "".join(out) + md_escape(paragraph[position:])


def badge(n: int) -> str:
    """The visible `[n]` marker, as a Streamlit badge."""
    return f":blue-badge[{n}]"


def cited_pieces(text: str) -> list[tuple[str, list[int]]]:
    """An answer's text as (piece, citation numbers) pairs, in order: each piece is the text up to a
    run of `[n]` markers (with the punctuation that follows them); text after the last marker is a
    piece with no numbers."""
    pieces: list[tuple[str, list[int]]] = []
    position = 0
    for match in _CITED_PIECE.finditer(text):
        if not match.group(2):
            continue
        body = (match.group(1) + match.group(3)).strip()
        numbers = [int(n) for n in _MARKER.findall(match.group(2))]
        if body or numbers:
            pieces.append((body, numbers))
        position = match.end()
    rest = text[position:].strip()
    if rest:
        pieces.append((rest, []))
    return pieces


def with_badges(text: str) -> str:
    """Answer text as inert Markdown, its `[n]` markers shown as badges."""
    return " ".join((md_escape(body) + " " + " ".join(badge(n) for n in numbers)).strip()
                    for body, numbers in cited_pieces(text))
