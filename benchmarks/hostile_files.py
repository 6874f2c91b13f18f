"""Time each hostile file of issue 15 through read, clean and split: the bounds in RELIABILITY.md.

    python -m benchmarks.hostile_files
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.clean import clean_document
from rag.ingest.load import parse_document
from rag.ingest.split import split_article
from rag.ingest.tokens import count_tokens
from rag.schema import Article

CASES = {
    "100 KB .md of repeated `![`": ("a.md", "![" * 50_000),
    "150 KB line of U+3000 spaces": ("b.txt", "Read Full Article at x" + "\u3000" * 50_000 + "x\n"),
    "1.1 MB of nested <div>": ("c.html", "<div>" * 220_000),
    "245 KB of nested <div> (just under the tag cap)": ("e.html", "<div>" * 49_000),
    "5 MB single sentence": ("d.txt", "word " * 1_000_000),
}


def main() -> None:
    split_article(Article(id="w", source="w", text="Warm up. The tokenizers load once."), 200, 40)
    with tempfile.TemporaryDirectory() as tmp:
        for label, (name, text) in CASES.items():
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            try:
                article = clean_document(parse_document(path, path.read_bytes()), name, name)
            except DocumentError as exc:
                print(f"{label}: skipped in {time.perf_counter() - started:.2f} s ({exc.message})", flush=True)
                continue
            read = time.perf_counter() - started
            chunks = split_article(article, 200, 40) if article.text.strip() else []
            split = time.perf_counter() - started - read
            longest = max((count_tokens(c.text) for c in chunks), default=0)
            print(f"{label}: read and cleaned in {read:.2f} s, split in {split:.2f} s "
                  f"({len(chunks)} chunks, longest {longest} tokens)", flush=True)


if __name__ == "__main__":
    main()
