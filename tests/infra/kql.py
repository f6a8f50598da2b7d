"""Which columns a KQL query uses, by a small tokenizer: enough for the project's queries, and
strict where it cannot tell (an unknown name is reported, never assumed to be fine).

A query starts with its table. Every other identifier must be one of: a KQL keyword or
operator, a function (followed by ``(``), a property after ``.`` (inside a dynamic column), a
name the query defines (``Name =`` in extend/summarize/project, ``let Name =``), or a column of
the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tabular operators, clauses and scalar keywords used in queries (KQL is case-sensitive).
KEYWORDS = frozenset({
    "where", "project", "extend", "summarize", "by", "order", "sort", "asc", "desc", "nulls", "first",
    "last", "top", "take", "limit", "distinct", "count", "and", "or", "not", "in", "has", "contains",
    "startswith", "endswith", "matches", "regex", "between", "true", "false", "null", "let", "render",
    "join", "kind", "on", "union", "mv-expand", "with", "typeof", "project-away", "project-rename",
    "inner", "leftouter", "rightouter", "fullouter", "leftanti", "leftsemi", "innerunique", "has_any",
    "has_all", "in~", "contains_cs", "hasprefix", "hassuffix", "timechart", "table", "barchart",
    "columnchart", "piechart",
})

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>\d+(?:\.\d+)?(?:[a-z]+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[a-z]+)*)
      | (?P<op>==|!=|=~|!~|<=|>=|!in|!has|!contains|=>|[=<>|(),.*\[\]{}+\-/%:;!~])
      | (?P<space>\s+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(query: str) -> list[Token]:
    out: list[Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            raise ValueError(f"KQL: cannot read {query[position:position + 20]!r}")
        kind = match.lastgroup or ""
        if kind not in ("comment", "space"):
            out.append(Token(kind, match.group()))
        position = match.end()
    return out


@dataclass(frozen=True)
class Usage:
    table: str
    columns: frozenset[str]  # names the query uses that must be columns of the table
    defined: frozenset[str]  # names the query defines


def usage(query: str) -> Usage:
    found = tokens(query)
    if not found or found[0].kind != "name":
        raise ValueError("a query must start with its table")
    table, rest = found[0].text, found[1:]
    defined: set[str] = set()
    used: set[str] = set()
    for i, token in enumerate(rest):
        if token.kind != "name" or token.text in KEYWORDS:
            continue
        before = rest[i - 1].text if i > 0 else ""
        after = rest[i + 1].text if i + 1 < len(rest) else ""
        if after == "(" or before == ".":
            continue  # a function, or a property of a dynamic value
        if after == "=":  # `Name = expression`: a name this query defines
            defined.add(token.text)
            continue
        used.add(token.text)
    return Usage(table, frozenset(used - defined), frozenset(defined))


def unknown_columns(query: str, columns: set[str]) -> set[str]:
    """The names ``query`` uses as columns that ``columns`` does not have."""
    return set(usage(query).columns) - columns
