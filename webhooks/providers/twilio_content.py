"""Twilio's Content API: the account's content templates (HX…), sent on WhatsApp with ContentSid.

Listing reads `GET /v1/Content` on content.twilio.com (HTTP Basic, like the Messages API) and follows
`meta.next_page_url` only while it stays on the configured Content host: the credentials go nowhere else.
Each template's WhatsApp approval is one more call (`GET /v1/Content/{sid}/ApprovalRequests`): a shop
has a handful of templates, and only approved ones may be offered.
"""

from dataclasses import replace
from urllib.parse import quote, urlsplit

from coccinelle import http
from webhooks.providers.meta_templates import ListedTemplate, positional_count

PAGE_SIZE = 50
MAX_PAGES = 20


def list_templates(
    *, account_sid: str, auth_token: str, content_base: str = "https://content.twilio.com"
) -> list[ListedTemplate]:
    url = f"{content_base.rstrip('/')}/v1/Content?PageSize={PAGE_SIZE}"
    origin = urlsplit(content_base)[:2]  # scheme and host: the credentials never go over plain HTTP
    listed = []
    for _ in range(MAX_PAGES):
        answer = http.request("GET", url, auth=(account_sid, auth_token))
        payload = http.json_object(answer, "Twilio's content list")
        listed += [t for t in map(_listed, payload.get("contents") or []) if t is not None]
        url = (payload.get("meta") or {}).get("next_page_url") or ""
        if not url or urlsplit(url)[:2] != origin:
            break
    auth = (account_sid, auth_token)
    return [replace(t, status=_whatsapp_status(content_base, t.content_sid, auth)) for t in listed]


def _whatsapp_status(content_base: str, sid: str, auth) -> str:
    """APPROVED, PENDING, REJECTED… (upper case, as Meta spells them); "" when never submitted."""
    url = f"{content_base.rstrip('/')}/v1/Content/{quote(sid, safe='')}/ApprovalRequests"
    whatsapp = http.json_object(http.request("GET", url, auth=auth), "Twilio's approval").get("whatsapp")
    status = whatsapp.get("status") if isinstance(whatsapp, dict) else ""
    return str(status or "UNSUBMITTED").upper()


def _listed(item) -> ListedTemplate | None:
    if not isinstance(item, dict) or not str(item.get("sid") or "").startswith("HX"):
        return None
    body = _body(item.get("types"))
    variables = item.get("variables") if isinstance(item.get("variables"), dict) else {}
    numbered = [int(key) for key in variables if str(key).isdigit()]
    return ListedTemplate(
        name=str(item.get("friendly_name") or item["sid"]),
        language=str(item.get("language") or ""),
        body=body,
        parameter_count=max([positional_count(body), *numbered], default=0),
        status="",  # approval is a further call per template (ApprovalRequests); not read here
        content_sid=str(item["sid"]),
    )


def _body(types) -> str:
    """The text of the first content type that has one (twilio/text, twilio/quick-reply, whatsapp/card…)."""
    if not isinstance(types, dict):
        return ""
    for content in types.values():
        if isinstance(content, dict) and isinstance(content.get("body"), str):
            return content["body"]
    return ""
