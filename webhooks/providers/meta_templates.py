"""Meta WhatsApp templates: list a WhatsApp Business Account's templates, send one.

Templates are the only messages Meta delivers outside the 24-hour window. Meta knows a template by its
name and language; its body's {{1}}, {{2}}… are filled from the `body` component's parameters, in order.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote

from coccinelle import http
from coccinelle.http import ExternalServiceError
from webhooks.providers import SendResult
from webhooks.providers.meta import _recipient, _send_error, _send_result

TEMPLATE_FIELDS = "name,language,status,category,components,parameter_format"
# A template this app cannot fill (named parameters, a header or button with a variable, a media
# header) is stored with this status and never offered: every send of it would be refused.
UNSUPPORTED = "UNSUPPORTED"
PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 templates: far more than a shop has; a paging loop must end
_POSITIONAL = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class ListedTemplate:
    """A template as a provider lists it, in the shape webhooks.wa_templates stores."""

    name: str
    language: str
    body: str
    parameter_count: int
    status: str
    content_sid: str = ""


def send_template(
    *,
    phone_number_id: str,
    to: str,
    name: str,
    language: str,
    parameters: list[str],
    access_token: str,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
) -> SendResult:
    """Send an approved template; raise ExternalServiceError when Meta refuses it (132001: no such
    template in that language; 132000: wrong number of parameters)."""
    url = f"{graph_base.rstrip('/')}/{graph_version}/{quote(phone_number_id, safe='')}/messages"
    template = {"name": name, "language": {"code": language}}
    if parameters:
        body_parameters = [{"type": "text", "text": value} for value in parameters]
        template["components"] = [{"type": "body", "parameters": body_parameters}]
    message = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **_recipient(to),
        "type": "template",
        "template": template,
    }
    try:
        response = http.request(
            "POST", url, json=message, headers={"Authorization": f"Bearer {access_token}"}
        )
    except ExternalServiceError as exc:
        raise _send_error(exc) from exc
    return _send_result(response)


def list_templates(
    *,
    waba_id: str,
    access_token: str,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
) -> list[ListedTemplate]:
    """Every template of the WhatsApp Business Account, following Meta's cursor paging.

    The `after` cursor is sent back to the same URL rather than following `paging.next`, so that the
    token only ever goes to the configured Graph host.
    """
    url = f"{graph_base.rstrip('/')}/{graph_version}/{quote(waba_id, safe='')}/message_templates"
    headers = {"Authorization": f"Bearer {access_token}"}
    params = {"fields": TEMPLATE_FIELDS, "limit": PAGE_SIZE}
    listed = []
    for _ in range(MAX_PAGES):
        answer = http.request("GET", url, params=params, headers=headers)
        payload = http.json_object(answer, "Meta's answer to a list")
        listed += [t for t in map(_listed, payload.get("data") or []) if t is not None]
        paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
        after = (paging.get("cursors") or {}).get("after")
        if not (paging.get("next") and after):
            break
        params = {**params, "after": after}
    return listed


def phone_number_ids(
    *,
    waba_id: str,
    access_token: str,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
) -> set[str]:
    """The phone-number ids a WhatsApp Business Account holds (`GET /{waba-id}/phone_numbers`)."""
    url = f"{graph_base.rstrip('/')}/{graph_version}/{quote(waba_id, safe='')}/phone_numbers"
    headers = {"Authorization": f"Bearer {access_token}"}
    params = {"fields": "id,display_phone_number", "limit": PAGE_SIZE}
    found: set[str] = set()
    for _ in range(MAX_PAGES):
        answer = http.request("GET", url, params=params, headers=headers)
        payload = http.json_object(answer, "Meta's answer to a list")
        found |= {str(item.get("id")) for item in payload.get("data") or [] if isinstance(item, dict)}
        paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
        after = (paging.get("cursors") or {}).get("after")
        if not (paging.get("next") and after):
            break
        params = {**params, "after": after}
    return found


def _listed(item) -> ListedTemplate | None:
    if not isinstance(item, dict) or not item.get("name") or not item.get("language"):
        return None
    components = item.get("components") if isinstance(item.get("components"), list) else []
    body = next(
        (str(c.get("text") or "") for c in components if isinstance(c, dict) and c.get("type") == "BODY"), ""
    )
    status = str(item.get("status") or "")
    if _unsupported(item, components):
        status = UNSUPPORTED
    return ListedTemplate(
        name=str(item["name"]),
        language=str(item["language"]),
        body=body,
        parameter_count=positional_count(body),
        status=status,
    )


def _unsupported(item: dict, components: list) -> bool:
    """Only body {{n}} parameters are filled in: anything else the send would leave out."""
    if str(item.get("parameter_format") or "POSITIONAL").upper() != "POSITIONAL":
        return True
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type") or "").upper()
        header_format = str(component.get("format") or "TEXT").upper()
        if kind == "HEADER" and (header_format != "TEXT" or "{{" in str(component.get("text") or "")):
            return True
        if kind == "BUTTONS" and "{{" in str(component.get("buttons") or ""):
            return True
    return False


def positional_count(body: str) -> int:
    """How many parameters a body takes: its highest {{n}}."""
    return max((int(n) for n in _POSITIONAL.findall(body)), default=0)
