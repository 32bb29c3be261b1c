"""Checking a connection's options (the JSON an owner types in the admin) against what its backend
documents. Each backend lists its options as {name: check}; a check returns why a value is wrong, or
None. A value of null means "the default", for every option.

Checked when the connection is saved (CrmConnection.clean), and again when a backend is built, so
that a row written some other way fails with a clear message instead of a 500 deep in a push.
"""

import re

from crm_backends import transport

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


def options_errors(options, schema: dict) -> list[str]:
    if not isinstance(options, dict):
        return ['Options must be a JSON object, for example {"rate_limit": 100}.']
    known = ", ".join(sorted(schema))
    errors = [f"{name}: unknown option (known: {known})" for name in options if name not in schema]
    for name, check in schema.items():
        value = options.get(name)
        problem = check(value) if value is not None else None
        if problem:
            errors.append(f"{name}: {problem}")
    return errors


def choice(*values):
    def check(value):
        return None if value in values else "one of " + ", ".join(f'"{v}"' for v in values)

    return check


def whole_number(low: int, high: int):
    def check(value):
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a whole number from {low} to {high}"

    return check


def seconds(low: float, high: float):
    def check(value):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"a number of seconds from {low:g} to {high:g}"

    return check


def api_name(value):
    """A field or property name: it goes into URLs and queries, so nothing but a plain API name."""
    if value == "" or (isinstance(value, str) and _API_NAME.fullmatch(value)):
        return None
    return 'an API name (letters, digits and _, starting with a letter), or "" for none'


def text_map(value):
    """{segment: value}: what a segment becomes in the CRM."""
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= 100 for k, v in value.items()
    )
    return None if ok else 'an object of texts, for example {"vip": "CONNECTED"}'


def pattern(regex: str, example: str):
    compiled = re.compile(regex)

    def check(value):
        return None if isinstance(value, str) and compiled.fullmatch(value) else f"like {example}"

    return check


def vendor_url(vendor: str):
    def check(value):
        if value == "":
            return None
        return transport.url_problem(value, vendor)

    return check
