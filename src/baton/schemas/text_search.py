"""The text-search query language of log and event filters.

`error warning` matches either word, `-debug` (or `!debug`) excludes, `+db` is required,
`"connection timeout"` is one phrase (backslash escapes a quote inside it). Matching is a
case-insensitive substring test, the same in SQL (`icontains`) and in Python (`matches`).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class TextQuery:
    include: tuple[str, ...] = ()  # at least one of these, when any are given
    required: tuple[str, ...] = ()  # every one of these
    exclude: tuple[str, ...] = ()  # none of these

    @property
    def empty(self) -> bool:
        return not (self.include or self.required or self.exclude)

    def matches(self, text: str) -> bool:
        text = text.lower()
        if self.include and not any(term in text for term in self.include):
            return False
        if not all(term in text for term in self.required):
            return False
        return not any(term in text for term in self.exclude)


def parse_text_query(query: str) -> TextQuery:
    include: list[str] = []
    required: list[str] = []
    exclude: list[str] = []
    for sign, term in _tokens(query):
        term = term.lower()
        if not term:
            continue
        {"-": exclude, "!": exclude, "+": required}.get(sign, include).append(term)
    return TextQuery(tuple(include), tuple(required), tuple(exclude))


def _tokens(query: str) -> list[tuple[str, str]]:
    """(sign, term) pairs: sign is "", "-", "!" or "+"; a quoted term keeps its spaces."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        sign = ""
        if query[i] in "-!+" and i + 1 < n and not query[i + 1].isspace():
            sign, i = query[i], i + 1
        if query[i] == '"':
            term: list[str] = []
            i += 1
            while i < n and query[i] != '"':
                if query[i] == "\\" and i + 1 < n:
                    i += 1
                term.append(query[i])
                i += 1
            i += 1  # the closing quote (or the end of an unterminated phrase)
            tokens.append((sign, "".join(term)))
        else:
            start = i
            while i < n and not query[i].isspace():
                i += 1
            tokens.append((sign, query[start:i]))
    return tokens
