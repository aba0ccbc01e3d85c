"""Generated run names are an adjective and an animal from the word lists."""

from __future__ import annotations

import json
from pathlib import Path

from baton.core.names import generate_name

WORDS = json.loads((Path(__file__).parents[2] / "src/baton/core/run_names.json").read_text())


def test_names_are_an_adjective_and_an_animal() -> None:
    names = {generate_name() for _ in range(200)}
    assert len(names) > 150  # 149 x 138 combinations: repeats are rare
    for name in names:
        adjective, _, animal = name.partition("-")
        assert adjective in WORDS["adjectives"]
        assert animal in WORDS["animals"]


def test_the_lists_are_plain_lowercase_words() -> None:
    for words in WORDS.values():
        assert len(words) == len(set(words)) > 100
        assert all(word.isalpha() and word.islower() for word in words)
