"""Cleaning: page furniture goes, bylines/datelines/publisher credits become metadata."""

import pytest

from rag.ingest.clean import clean_document
from rag.ingest.load import RawDocument, parse_document

from ..support.helpers import SEEDS


def clean(name: str):
    path = SEEDS / name
    return clean_document(parse_document(path, path.read_bytes()), name, f"seeds/{name}")

def test_unrelated_teasers_and_newsletter_blurb_are_cut():
    article = clean("000_88fd1b36135ac6ea.txt")
    for furniture in ("special ops need a reset", "Turkey", "Cuba", "keep reading", "Subscribe now",
                      "DoD photo by", "Follow us on social", "Screenshot-2023"):
        assert furniture not in article.text
    assert article.text.rstrip().endswith("would be an important part of that.")
    assert article.title == "Biden refuses to lift sanctions on Chinese defense minister"

def test_read_more_teaser_and_repeated_title_are_dropped_and_publisher_kept():
    article = clean("001_bbda2254c924550c.txt")
    assert "Kurt Campbell" not in article.text
    assert "US will seek to restore military contacts" not in article.text
    assert "Read Full Article" not in article.text
    assert article.text.count("China offers US military cooperation deal") == 0
    assert article.publisher == "RT.com"

def test_byline_becomes_author_and_footer_is_cut():
    article = clean("002_7d4c0a3551aecea8.txt")
    assert article.author == "Tom Fowdy"
    assert article.publisher == "DotDotNews"
    assert article.title == "The US throws China a bone, but don't buy it"
    assert "The author is" not in article.text and "Read more articles" not in article.text
    assert "hypocritical" not in article.text.lower()

def test_breadcrumbs_and_view_counts_go_and_dateline_is_parsed():
    article = clean("003_ffa59c323890c43b.txt")
    assert article.date == "2023-10-19"
    assert "Home >" not in article.text and "151 views" not in article.text
    assert article.title == "Are U.S.-China relations on the mend?"

def test_date_prefix_and_wire_credit_are_metadata_and_the_dateline_is_not_the_title():
    article = clean("004_fff62de0ee9bf52b.txt")
    assert article.date == "2023-05-30"
    assert article.publisher == "Bloomberg"
    assert not article.text.startswith("date")
    assert not article.text.rstrip().endswith("BLOOMBERG")
    assert article.title.startswith("China declined a US request")


def test_furniture_rules_hold_on_a_page_that_is_not_a_seed():
    page = "\n".join([
        "Home > World > Europe", "Follow us on Mastodon", "Share this article", "2,031 views",
        "Harbour strike ends after nine days", "ferry-terminal.jpg", "Image credit: Port Authority",
        "Dock workers in Bergen returned to work on Monday after a nine-day strike over pay.",
        "Advertisement", "The union said members had accepted a 6% rise over two years. REUTERS",
        "The views expressed here do not necessarily reflect those of Example Gazette.",
        "Read more from our Europe desk:", "Strikes spread to Danish ports",
    ])
    article = clean_document(RawDocument(page), "x.txt", "docs/x.txt")
    assert article.title == "Harbour strike ends after nine days"
    assert article.text == ("Dock workers in Bergen returned to work on Monday after a nine-day strike over pay.\n\n"
                            "The union said members had accepted a 6% rise over two years.")
    assert article.publisher == "Example Gazette"  # the page's own credit wins over the wire agency's

@pytest.mark.parametrize("html", [
    "<html><head><title>T</title><script>alert('x')</script></head>"
    "<body><h1>Headline here now</h1><p onclick=\"steal()\">Body sentence one. Body sentence two.</p>"
    "<footer>Subscribe</footer></body></html>",
])
def test_html_keeps_text_and_drops_scripts_and_handlers(html, tmp_path):
    path = tmp_path / "a.html"
    path.write_text(html)
    raw = parse_document(path, path.read_bytes())
    article = clean_document(raw, "a.html", "docs/a.html")
    assert "alert" not in article.text and "steal" not in article.text and "Subscribe" not in article.text
    assert "Body sentence one." in article.text
    assert article.title == "Headline here now"

def test_markdown_images_to_outside_addresses_are_removed(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# Title of the piece\n\nText with ![x](http://evil.example/p.png) a [link](http://x.y) here.\n")
    article = clean_document(parse_document(path, path.read_bytes()), "a.md", "docs/a.md")
    assert "evil.example" not in article.text and "http" not in article.text
    assert "a link here." in article.text

def test_no_title_line_falls_back_to_first_words():
    raw = RawDocument("This is the very first sentence of a story without a headline line at all in it.\n")
    article = clean_document(raw, "x.txt", "docs/x.txt")
    assert article.title.startswith("This is the very first sentence")
