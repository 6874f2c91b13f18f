"""A one-click "Copy answer" button: a tiny page in an iframe that writes the text to the clipboard.

Streamlit has no button that copies; its iframes (`st.iframe`) are allowed `clipboard-write`. Where the page is not a
secure context (plain http on a LAN address) `navigator.clipboard` is missing, so the button falls back
to selecting a hidden text area and `document.execCommand("copy")`.
"""

from __future__ import annotations

import html
import json

import streamlit as st

_PAGE = """<style>
body {{ margin: 0; font-family: "Source Sans Pro", "Source Sans 3", sans-serif; }}
button {{ background: none; border: none; padding: 2px 0; cursor: pointer; font: inherit; font-size: 14px;
         color: rgba(49, 51, 63, 0.7); }}
button:hover {{ color: #ff4b4b; }}
@media (prefers-color-scheme: dark) {{ button {{ color: rgba(250, 250, 250, 0.7); }} }}
</style>
<button id="copy" type="button" title="Copy the answer and its sources">&#x2398; {label}</button>
<script>
const text = {text};
const button = document.getElementById("copy");
function fallback() {{
  const area = document.createElement("textarea");
  area.value = text; document.body.appendChild(area); area.select();
  const ok = document.execCommand("copy"); area.remove(); return ok;
}}
button.addEventListener("click", async () => {{
  let ok = false;
  try {{ await navigator.clipboard.writeText(text); ok = true; }} catch (e) {{ ok = fallback(); }}
  button.textContent = ok ? "\\u2713 Copied" : "Select the text to copy it";
  setTimeout(() => {{ button.innerHTML = "&#x2398; {label}"; }}, 2000);
}});
button.dataset.ready = "1";  // for tests: a click now copies
</script>"""


def script_literal(text: str) -> str:
    """`text` as a JavaScript string literal that cannot end the script element it sits in."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def copy_button(text: str, label: str = "Copy answer") -> None:
    st.iframe(_PAGE.format(text=script_literal(text), label=html.escape(label)), height=30, width="content")
