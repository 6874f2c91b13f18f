"""A deterministic generator of news-like articles, for load tests and `rag bench` (no downloads).

Article i always has the same text for the same seed. Each carries one unique fact that can be asked
about: `question(i)` and `answer(i)` give the question and the word its answer must contain.
"""

from __future__ import annotations

import random
from pathlib import Path

CITIES = ["Oslo", "Lima", "Nairobi", "Hanoi", "Quito", "Tunis", "Riga", "Accra", "Dhaka", "Porto", "Sofia", "Perth",
          "Bergen", "Cusco", "Mombasa", "Hue", "Ghent", "Lyon", "Malmo", "Tartu", "Kochi", "Leon", "Salta", "Cork"]
COUNTRIES = ["Norway", "Peru", "Kenya", "Vietnam", "Ecuador", "Tunisia", "Latvia", "Ghana", "Bangladesh", "Portugal",
             "Bulgaria", "Australia", "Chile", "Estonia", "India", "Spain", "Belgium", "France", "Sweden", "Ireland"]
ROLES = ["trade minister", "foreign minister", "defense secretary", "central bank governor", "energy minister",
         "spokesperson", "ambassador", "finance minister", "chief negotiator", "prime minister"]
TOPICS = ["tariffs on steel", "fishing quotas", "grain exports", "port access", "chip export controls",
          "a river treaty", "airline routes", "rare earth mining", "shipping insurance", "a pipeline route",
          "vaccine supply", "satellite launches", "border crossings", "student visas", "carbon credits"]
FIRST = ["Ana", "Bo", "Chen", "Dara", "Emil", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lina", "Marek",
         "Nia", "Omar", "Petra", "Quan", "Rosa", "Sami", "Tova"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Mensah", "Ivanova",
        "Duarte", "Nguyen", "Rahman", "Costa", "Berg", "Petrov", "Aziz", "Keller", "Quispe", "Murphy"]
FILLER = [
    "Analysts said the talks reflected a broader shift in regional priorities.",
    "Officials on both sides described the atmosphere as cautious but constructive.",
    "Markets reacted calmly to the news, with bond yields little changed.",
    "Critics argued that the process had been rushed and lacked public consultation.",
    "The agreement still needs approval from parliament before it takes effect.",
    "Diplomats expect further rounds of negotiations later in the year.",
    "Business groups welcomed the move but asked for clearer timelines.",
    "Opposition lawmakers said they would scrutinize the details closely.",
    "Observers noted that similar efforts had stalled in previous years.",
    "The ministry did not immediately respond to a request for comment.",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def codename(i: int) -> str:
    return f"Meridian-{i:06d}"


def question(i: int) -> str:
    return f"In which city was the {codename(i)} accord signed?"


def answer(i: int, seed: int = 0) -> str:
    return random.Random(seed * 1_000_003 + i).choice(CITIES)


def article(i: int, seed: int = 0, paragraphs: int = 6) -> str:
    rng = random.Random(seed * 1_000_003 + i)
    city = rng.choice(CITIES)  # first draw: answer(i) repeats it
    country, other = rng.sample(COUNTRIES, 2)
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    role, topic = rng.choice(ROLES), rng.choice(TOPICS)
    month, day, year = rng.choice(MONTHS), rng.randint(1, 28), rng.randint(2019, 2025)
    title = f"{country} and {other} reach deal on {topic}"
    body = [f"The {codename(i)} accord was signed in {city} on {month} {day}, {year}, after weeks of talks between "
            f"{country} and {other} on {topic}.",
            f"{person}, the {role} of {country}, said the deal would be reviewed after {rng.randint(2, 9)} years."]
    for _ in range(paragraphs):
        body.append(" ".join(rng.sample(FILLER, 3)))
    return f"{title}\n\nBy {person}\n\n{month} {day}, {year}\n\n" + "\n\n".join(body) + "\n"


def write_corpus(folder: Path, count: int, seed: int = 0, paragraphs: int = 6) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"synthetic_{i:06d}.txt"
        if not path.exists():
            path.write_text(article(i, seed, paragraphs), encoding="utf-8")
        paths.append(path)
    return paths
