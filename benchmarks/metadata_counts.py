"""How many articles get a date and an author from cleaning (the README's table of forms read).

    PYTHONPATH=. python benchmarks/metadata_counts.py seeds ../shared/corpora/bbc

Prints, per folder, the articles read and how many got a date, an author, and a title that is not
the first words of the body; with --show, each date and author found, to check them by eye.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.clean import clean_document
from rag.ingest.load import list_article_files, parse_document


def main(folders: list[str], show: bool) -> None:
    for folder in map(Path, folders):
        total = dated = authored = 0
        for path in list_article_files(folder):
            try:
                article = clean_document(parse_document(path, path.read_bytes()), path.name, str(path))
            except DocumentError as exc:
                print(f"  unreadable {path}: {exc}")
                continue
            total += 1
            dated += article.date is not None
            authored += article.author is not None
            if show and (article.date or article.author):
                print(f"  {path}: date={article.date} author={article.author} title={article.title!r}")
        print(f"{folder}: {total} articles, {dated} with a date, {authored} with an author")


if __name__ == "__main__":
    args = sys.argv[1:]
    main([a for a in args if a != "--show"], "--show" in args)
