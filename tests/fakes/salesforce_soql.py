"""The SOQL subset the fake Salesforce answers (tests/fakes/salesforce.py), with Salesforce's
string-literal escaping: a literal broken by an unescaped quote is MALFORMED_QUERY, as in Salesforce.

SELECT f, … | COUNT() FROM Contact|Task [WHERE …] [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]; WHERE
takes =, !=, <, >, <=, >=, LIKE, IN (…), NOT IN (…), AND, OR, NOT and parentheses.
"""

import re


class _Reject(Exception):
    """A request-level answer: (status, Salesforce's error list)."""

    def __init__(self, status: int, error_code: str, message: str, fields=None):
        super().__init__(message)
        self.status = status
        self.body = [{"message": message, "errorCode": error_code, "fields": list(fields or [])}]


_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "limit", "offset", "order", "by"}
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")


def _malformed(message: str) -> _Reject:
    return _Reject(400, "MALFORMED_QUERY", message)


def _tokens(q: str) -> list[tuple[str, object, int]]:
    out, i = [], 0
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
        elif c == "'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= len(q):
                    raise _malformed(
                        f"unexpected end of query: unterminated string literal at column {start + 1}"
                    )
                c = q[i]
                if c == "'":
                    i += 1
                    break
                if c == "\\":
                    nxt = q[i + 1] if i + 1 < len(q) else ""
                    if nxt in _ESCAPES:
                        chars.append(_ESCAPES[nxt])
                    elif nxt in ("%", "_"):
                        chars.append("\\" + nxt)  # a literal % or _ for LIKE
                    elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", q[i + 2 : i + 6]):
                        chars.append(chr(int(q[i + 2 : i + 6], 16)))
                        i += 4
                    else:
                        raise _malformed(
                            f"Invalid string literal: illegal escape sequence \\{nxt} at column {i + 1}"
                        )
                    i += 2
                    continue
                if ord(c) < 0x20:
                    raise _malformed(f"Invalid string literal: unescaped control character at column {i + 1}")
                chars.append(c)
                i += 1
            out.append(("str", "".join(chars), start))
        elif c in ",()":
            out.append((c, c, i))
            i += 1
        elif op := next((o for o in _OPERATORS if q.startswith(o, i)), None):
            out.append(("op", "!=" if op == "<>" else op, i))
            i += len(op)
        elif match := re.compile(r"[A-Za-z_][A-Za-z0-9_.]*").match(q, i):
            word = match.group()
            out.append(("kw" if word.lower() in _KEYWORDS else "name", word, i))
            i = match.end()
        elif match := re.compile(r"-?\d+(\.\d+)?").match(q, i):
            out.append(("num", match.group(), i))
            i = match.end()
        else:
            raise _malformed(f"unexpected token: '{c}' at column {i + 1}")
    return out


def _sort_key(value):
    return (value is None, str(value).lower() if value is not None else "")


class _Soql:
    """SELECT f, … | COUNT() FROM Contact|Task [WHERE …] [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]."""

    def __init__(self, q: str, fields: dict):
        self.tokens, self.pos, self.fields = _tokens(q), 0, fields

    def peek(self, kind=None, word=None):
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        if kind and token[0] != kind:
            return None
        if word and str(token[1]).lower() != word:
            return None
        return token

    def take(self, kind=None, word=None):
        token = self.peek(kind, word)
        if token is None:
            if self.pos < len(self.tokens):
                got = self.tokens[self.pos]
                raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
            raise _malformed(f"unexpected end of query: expecting {word or kind}")
        self.pos += 1
        return token

    def parse(self) -> dict:
        self.take("kw", "select")
        names, count = [], False
        if self.peek("name", "count"):
            self.take()
            self.take("(")
            self.take(")")
            count = True
        else:
            names.append(self.take("name")[1])
            while self.peek(","):
                self.take()
                names.append(self.take("name")[1])
        self.take("kw", "from")
        sobject_raw = self.take("name")[1]
        self.sobject = next((s for s in self.fields if s.lower() == sobject_raw.lower()), None)
        if self.sobject is None:
            raise _Reject(400, "INVALID_TYPE", f"sObject type '{sobject_raw}' is not supported.")
        fields = [self.field(n) for n in names]
        where = lambda row: True  # noqa: E731
        if self.peek("kw", "where"):
            self.take()
            where = self.condition()
        order = None
        if self.peek("kw", "order"):
            self.take()
            self.take("kw", "by")
            field = self.field(self.take("name")[1])
            descending = False
            if self.peek("name", "desc") or self.peek("name", "asc"):
                descending = self.take()[1].lower() == "desc"
            order = (field, descending)
        limit = offset = None
        if self.peek("kw", "limit"):
            self.take()
            limit = int(self.take("num")[1])
        if self.peek("kw", "offset"):
            self.take()
            offset = int(self.take("num")[1])
        if self.pos < len(self.tokens):
            got = self.tokens[self.pos]
            raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
        return {
            "sobject": self.sobject,
            "fields": fields,
            "count": count,
            "where": where,
            "order": order,
            "limit": limit,
            "offset": offset or 0,
        }

    def field(self, name: str) -> str:
        canonical = next((f for f in self.fields[self.sobject] if f.lower() == name.lower()), None)
        if canonical is None:
            raise _Reject(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.sobject}'.")
        return canonical

    def condition(self):
        left = self.conjunction()
        while self.peek("kw", "or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def conjunction(self):
        left = self.factor()
        while self.peek("kw", "and"):
            self.take()
            right = self.factor()
            left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
        return left

    def factor(self):
        if self.peek("kw", "not"):
            self.take()
            inner = self.factor()
            return lambda row: not inner(row)
        if self.peek("("):
            self.take()
            inner = self.condition()
            self.take(")")
            return inner
        field = self.field(self.take("name")[1])
        kind = self.fields[self.sobject][field][0]
        negate = False
        if self.peek("kw", "not"):
            self.take()
            negate = True
        if self.peek("kw", "in"):
            self.take()
            self.take("(")
            values = [self.value()]
            while self.peek(","):
                self.take()
                values.append(self.value())
            self.take(")")
            # A set, as a database would use an index: the fake answers 200-value IN lists over
            # thousands of contacts (the bench) without comparing each pair.
            wanted = {_key(kind, v) for v in values}
            return lambda row: (_key(kind, row.get(field)) in wanted) != negate
        if negate:
            got = self.tokens[self.pos - 1]
            raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
        if self.peek("kw", "like"):
            self.take()
            pattern = _like(self.take("str")[1])
            return lambda row: row.get(field) is not None and bool(pattern.fullmatch(str(row.get(field))))
        op = self.take("op")[1]
        value = self.value()
        if op == "=":
            return lambda row: _equal(kind, row.get(field), value)
        if op == "!=":
            return lambda row: not _equal(kind, row.get(field), value)
        compare = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b}
        compare[">="] = lambda a, b: a >= b
        return lambda row: (
            row.get(field) is not None
            and value is not None
            and compare[op](_sort_key(row.get(field)), _sort_key(value))
        )

    def value(self):
        if self.peek("str"):
            return self.take()[1]
        if self.peek("num"):
            return self.take()[1]
        token = self.take("name")
        word = str(token[1]).lower()
        if word in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[word]
        raise _malformed(f"unexpected token: '{token[1]}' at column {token[2] + 1}")


def _equal(kind: str, have, want) -> bool:
    if want is None or have is None:
        return have is None and want is None
    if kind in ("id", "reference"):
        return str(have)[:15] == str(want)[:15]
    if isinstance(want, bool) or isinstance(have, bool):
        return have == want
    return str(have).lower() == str(want).lower()  # SOQL string comparison ignores case


def _key(kind: str, value):
    """What _equal compares: ids by their first 15 characters, strings ignoring case."""
    if value is None or isinstance(value, bool):
        return value
    return str(value)[:15] if kind in ("id", "reference") else str(value).lower()


def _like(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if pattern[i] == "%" else "." if pattern[i] == "_" else re.escape(pattern[i])
        i += 1
    return re.compile(out, re.IGNORECASE | re.DOTALL)
