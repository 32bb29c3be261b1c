"""The last sync's report in words, for the admin: a short status for the list ("Échec : …" or
"12 produits, 40 variantes") and the details for the change page.

The report is stored as JSON (services.SyncReport); its error is the technical message (host and the
vendor's answer, never a credential), which a shop owner cannot act on, so the common causes are told
in words here and the technical message is kept for the change page only.
"""

import json

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# First match wins: (a piece of the technical message, what it means for the owner).
_CAUSES = [
    ("cannot be decrypted", lambda: _("the stored credentials can no longer be read: type them again")),
    ("refused to call", lambda: _("the address is not allowed (check the domain or the site address)")),
    ("redirect", lambda: _("the e-shop answered with a redirection (check the address)")),
    ("timed out", lambda: _("the e-shop did not answer in time")),
    ("ConnectionError", lambda: _("the e-shop could not be reached (check the address)")),
    ("HTTP 401", lambda: _("the e-shop refused the credentials")),
    ("HTTP 403", lambda: _("the e-shop refused access (check the key's permissions)")),
    ("HTTP 404", lambda: _("address not found (check the domain or the site address)")),
    ("HTTP 429", lambda: _("the e-shop asked to slow down: try again later")),
    ("THROTTLED", lambda: _("the e-shop asked to slow down: try again later")),
    ("HTTP 5", lambda: _("the e-shop had an internal error: try again later")),
]


def report_of(connection) -> dict | None:
    """The stored report as a dict, or None before the first sync (or an unreadable one)."""
    try:
        report = json.loads(connection.last_sync_report or "null")
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def error_in_words(error: str) -> str:
    cause = next(
        (words() for piece, words in _CAUSES if piece in error), _("unexpected error (see the details)")
    )
    if error.startswith("orders: "):
        return _("orders: %(cause)s") % {"cause": cause}
    return cause


def counts_in_words(report: dict) -> str:
    products, variants, rejected = (report.get(k, 0) for k in ("products", "variants", "rejected"))
    parts = [
        ngettext("%(n)d product", "%(n)d products", products) % {"n": products},
        ngettext("%(n)d variant", "%(n)d variants", variants) % {"n": variants},
    ]
    if rejected:
        parts.append(ngettext("%(n)d rejected", "%(n)d rejected", rejected) % {"n": rejected})
    return ", ".join(parts)


def sync_status(connection) -> tuple[bool | None, str]:
    """(succeeded, short text): (None, "never") before the first sync."""
    report = report_of(connection)
    if report is None:
        return None, _("never")
    if report.get("error"):
        return False, _("Failed: %(reason)s") % {"reason": error_in_words(report["error"])}
    return True, counts_in_words(report)


def sync_details(connection) -> list[str]:
    """The change page's lines under the short status: every figure of the report, then the technical
    message if the sync stopped (host and the vendor's answer: what support needs)."""
    report = report_of(connection)
    if report is None:
        return [_("never")]
    get = report.get
    lines = [
        _("Products: %(products)d; variants: %(variants)d (%(created)d new)")
        % {"products": get("products", 0), "variants": get("variants", 0), "created": get("created", 0)},
        _("Deactivated (no longer in the e-shop): %(deactivated)d; rejected: %(rejected)d")
        % {"deactivated": get("deactivated", 0), "rejected": get("rejected", 0)},
        _("Orders recorded: %(orders)d; not recorded (no phone or e-mail, or unreadable): %(skipped)d")
        % {"orders": get("orders", 0), "skipped": get("orders_skipped", 0)},
    ]
    if get("error"):
        lines.append(_("Technical message: %(error)s") % {"error": get("error")})
    return lines
