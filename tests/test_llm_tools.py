"""The LLM engine's stock lookup (issue 15, item 3): check_stock on the shop's own catalogue, the tool
rounds against both vendors' protocols (loopback fakes), and the guard that refuses a reply stating
stock it did not look up, so that the offline engine answers instead."""

import logging
from decimal import Decimal

import pytest

from catalog import llm_tool
from catalog.holds import hold_create
from catalog.matching import Catalogue, Match, match_question
from catalog.selectors import shop_catalogue
from customers.models import ChannelAddress, Interaction
from tests.fakes.llm_servers import FakeAnthropic, FakeOpenAI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.test_catalog import make_variant
from tests.webhook_posting import SMS_URL, TWILIO_TOKEN, post_twilio
from webhooks import llm, llm_tools
from webhooks.llm import Conversation, LLMConfig, LLMError, llm_reply
from webhooks.replies import ShopInfo

pytestmark = pytest.mark.django_db

API_KEY = "sk-test-tools"
FAKES = {"openai": FakeOpenAI, "anthropic": FakeAnthropic}
QUESTION = "Bonjour, vous avez encore la robe Lilas en 38 ?"
CONVERSATION = Conversation(
    shop=ShopInfo(name="Boutique Coccinelle", language="fr"),
    customer_first_name="Léa",
    segment="active",
    language="fr",
    history=(("customer", QUESTION),),
)
LOOKUP = {"tool_calls": [{"name": "check_stock", "arguments": {"product": "robe Lilas", "size": "38"}}]}


def config(provider, url, timeout=5.0):
    return LLMConfig(provider=provider, base_url=url, api_key=API_KEY, model="test-model", timeout=timeout)


@pytest.fixture(params=["openai", "anthropic"])
def provider(request):
    return request.param


def simple_matcher(text, catalogue, *, language=None):
    """Stands in for catalog.matching until its body is merged: a product named in full, and a size
    among its words. The handler's own work (the shop's catalogue in, the result out) is what these
    tests check."""
    words = text.lower().split()
    for name, items in catalogue.products().items():
        if name.lower() in text.lower():
            sized = [i for i in items if i.size.lower() in words]
            if len(sized) == 1:
                return Match("variant", item=sized[0])
            return Match("product", items=items, ask="size")
    return Match("none")


@pytest.fixture
def matcher(monkeypatch):
    seen = []

    def match(text, catalogue, *, language=None):
        seen.append((text, catalogue))
        return simple_matcher(text, catalogue)

    monkeypatch.setattr(llm_tool, "match_question", match)
    return seen


@pytest.fixture
def lilas(shop, other_shop, make_customer):
    """Robe Lilas: 38 with 3 in stock of which 1 held (2 available), 40 sold out. Another shop sells a
    Robe Lilas too, with 9 in 38."""
    v38 = make_variant(shop, "LIL-38", name="Robe Lilas", stock=3, size="38", color="lilas")
    make_variant(shop, "LIL-40", name="Robe Lilas", stock=0, size="40", color="lilas")
    hold_create(customer=make_customer(shop), variant=v38, quantity=1)
    make_variant(other_shop, "LIL-38", name="Robe Lilas", stock=9, size="38", color="lilas")
    return v38


# --- check_stock ----------------------------------------------------------------------------------


def test_check_stock_gives_what_can_be_sold_never_the_raw_stock(shop, lilas, matcher):
    result = llm_tool.check_stock(shop, {"product": "robe Lilas", "size": "38"})

    assert result == {
        "found": True,
        "match": "variant",
        "variants": [
            {
                "sku": "LIL-38",
                "product": "Robe Lilas",
                "size": "38",
                "color": "lilas",
                "price": "89.00",
                "available": 2,  # 3 in stock, 1 held for another customer
            }
        ],
    }
    assert matcher[0][0] == "robe Lilas 38"  # the customer's words, handed to the one matcher


def test_check_stock_reads_only_the_calling_shops_catalogue(shop, other_shop, lilas, matcher):
    mine = llm_tool.check_stock(shop, {"product": "Robe Lilas", "size": "38"})
    theirs = llm_tool.check_stock(other_shop, {"product": "Robe Lilas", "size": "38"})

    assert mine["variants"][0]["available"] == 2 and theirs["variants"][0]["available"] == 9
    (_, my_catalogue), (_, their_catalogue) = matcher
    assert {i.variant_id for i in my_catalogue.items} == set(shop.variants.values_list("pk", flat=True))
    assert {i.variant_id for i in their_catalogue.items} == set(
        other_shop.variants.values_list("pk", flat=True)
    )


def test_check_stock_without_a_size_lists_the_products_sizes_and_asks(shop, lilas, matcher):
    result = llm_tool.check_stock(shop, {"product": "Robe Lilas"})
    assert [(v["size"], v["available"]) for v in result["variants"]] == [("38", 2), ("40", 0)]
    assert result["ask_customer"] == "size"


def test_check_stock_leaves_out_what_is_not_on_sale(shop, lilas, matcher):
    make_variant(shop, "LIL-42", name="Robe Lilas", stock=5, size="42", active=False)
    result = llm_tool.check_stock(shop, {"product": "Robe Lilas"})
    assert "LIL-42" not in {v["sku"] for v in result["variants"]}


def test_check_stock_answers_at_most_ten_variants(shop, matcher):
    for size in range(34, 58, 2):  # twelve sizes
        make_variant(shop, f"JN-{size}", name="Jean droit", size=str(size), stock=1)
    result = llm_tool.check_stock(shop, {"product": "Jean droit"})
    assert len(result["variants"]) == 10 and result["more_variants"] == 2


def test_check_stock_says_not_found(shop, lilas, matcher):
    assert llm_tool.check_stock(shop, {"product": "manteau en laine"}) == {
        "found": False,
        "reason": "the shop does not sell this",
    }


def test_check_stock_with_the_real_matcher(shop, lilas):
    result = llm_tool.check_stock(shop, {"product": "Robe Lilas", "size": "38"})
    assert result["found"] and result["variants"][0]["sku"] == "LIL-38"
    assert result["variants"][0]["available"] == 2


def test_check_stock_is_registered_for_the_llm_engine():
    (tool,) = [t for t in llm_tools.registered_tools() if t.name == "check_stock"]
    assert tool.looks_up_stock and tool.json_schema["required"] == ["product"]


# --- the tool rounds, both protocols ----------------------------------------------------------------


def _tool_messages(provider, body):
    """(id, content, is_error) of the tool results at the end of a request."""
    if provider == "openai":
        tail = []
        for message in reversed(body["messages"]):
            if message["role"] != "tool":
                break
            tail.insert(0, (message["tool_call_id"], message["content"], None))
        return tail
    return [
        (b["tool_use_id"], b["content"], b.get("is_error"))
        for b in body["messages"][-1]["content"]
        if b["type"] == "tool_result"
    ]


def test_the_model_looks_up_then_states_the_looked_up_figure(shop, lilas, matcher, provider):
    script = [LOOKUP, {"text": "Oui ! Il en reste {0[variants][0][available]} en 38. — Boutique Coccinelle"}]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)

    assert text == "Oui ! Il en reste 2 en 38. — Boutique Coccinelle"
    first, second = (r.json() for r in fake.requests)
    offered = first["tools"][0]
    assert (offered.get("function") or offered)["name"] == "check_stock"
    system = first["messages"][0]["content"] if provider == "openai" else first["system"]
    assert "Call check_stock before" in system
    ((call_id, content, is_error),) = _tool_messages(provider, second)
    assert call_id == fake.issued_ids[0] and not is_error
    assert '"available": 2' in content and '"stock"' not in content


def test_parallel_lookups_are_each_answered(shop, lilas, matcher, provider):
    both = {
        "tool_calls": [
            {"name": "check_stock", "arguments": {"product": "Robe Lilas", "size": "38"}},
            {"name": "check_stock", "arguments": {"product": "Robe Lilas", "size": "40"}},
        ]
    }
    script = [
        both,
        {"text": "Il en reste {0[variants][0][available]} en 38 et {1[variants][0][available]} en 40."},
    ]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    assert text == "Il en reste 2 en 38 et 0 en 40."
    answered = [call_id for call_id, _, _ in _tool_messages(provider, fake.requests[-1].json())]
    assert answered == fake.issued_ids


def test_stock_stated_without_a_lookup_is_refused(shop, lilas, provider, caplog):
    with (
        FAKES[provider](api_key=API_KEY, reply_text="Oui, il nous en reste 3 en 38 !") as fake,
        caplog.at_level(logging.WARNING, logger="webhooks.llm_tools"),
        pytest.raises(LLMError) as error,
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    assert "without looking it up" in str(error.value)
    assert "LLM reply refused" in caplog.text
    assert len(fake.requests) == 1  # it could have looked (the tool was offered) and did not


def test_a_quantity_the_lookup_did_not_return_is_refused(shop, lilas, matcher, provider):
    script = [LOOKUP, {"text": "Oui, il en reste 5 en 38 !"}]
    with (
        FAKES[provider](api_key=API_KEY, tool_script=script) as fake,
        pytest.raises(LLMError, match=r"quantities \[5\]"),
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)


def test_a_model_that_keeps_looking_up_is_made_to_answer(shop, lilas, matcher, provider):
    text_without_stock = "Je transmets à l'équipe, elle vous répond vite. — Boutique Coccinelle"
    with FAKES[provider](api_key=API_KEY, tool_script=[LOOKUP], reply_text=text_without_stock) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)

    assert text == text_without_stock
    assert len(fake.requests) == llm_tools.MAX_TOOL_ROUNDS + 1 == 4
    last = fake.requests[-1].json()
    assert last["tool_choice"] in ("none", {"type": "none"})
    assert all("tool_choice" not in r.json() for r in fake.requests[:-1])


def test_bad_arguments_get_an_error_result_not_a_crash(shop, lilas, matcher, provider):
    # OpenAI's arguments are a JSON string the model may garble; Anthropic's input may miss a field.
    arguments = '{"product": "robe Lilas", "size": ' if provider == "openai" else {"size": "38"}
    script = [
        {"tool_calls": [{"name": "check_stock", "arguments": arguments}]},
        {"text": "Un membre de l'équipe vous répond vite."},
    ]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)

    assert text == "Un membre de l'équipe vous répond vite."
    ((call_id, content, is_error),) = _tool_messages(provider, fake.requests[-1].json())
    assert call_id == fake.issued_ids[0] and '"error"' in content
    assert is_error is (True if provider == "anthropic" else None)
    assert matcher == []  # the handler never ran on arguments it could not read


def test_an_unknown_tool_gets_an_error_result(shop, provider):
    script = [
        {"tool_calls": [{"name": "place_order", "arguments": {"sku": "LIL-38"}}]},
        {"text": "Un membre de l'équipe vous répond vite."},
    ]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    ((_, content, _),) = _tool_messages(provider, fake.requests[-1].json())
    assert "unknown tool 'place_order'" in content


def test_a_failing_tool_is_logged_and_the_model_hears_it_failed(shop, provider, monkeypatch, caplog):
    def broken(text, catalogue, *, language=None):
        raise RuntimeError("matcher bug")

    monkeypatch.setattr(llm_tool, "match_question", broken)
    script = [LOOKUP, {"text": "Un membre de l'équipe vérifie et vous répond vite."}]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake, caplog.at_level(logging.ERROR):
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    assert text.startswith("Un membre")
    ((_, content, _),) = _tool_messages(provider, fake.requests[-1].json())
    assert "the lookup failed" in content and "matcher bug" not in content
    assert "LLM tool check_stock failed" in caplog.text


def test_a_failed_lookup_does_not_license_stock_claims(shop, provider, monkeypatch):
    monkeypatch.setattr(llm_tool, "match_question", lambda *a, **k: 1 / 0)
    script = [LOOKUP, {"text": "Oui, la robe Lilas est disponible en 38."}]
    with (
        FAKES[provider](api_key=API_KEY, tool_script=script) as fake,
        pytest.raises(LLMError, match="without looking it up"),
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)


def test_a_lookup_that_found_nothing_does_not_license_stock_claims(shop, lilas, matcher, provider):
    """The tool said the shop does not sell it: "disponible en 38" would be made up."""
    maillot = {"tool_calls": [{"name": "check_stock", "arguments": {"product": "maillot", "size": "38"}}]}
    script = [maillot, {"text": "Oui, le maillot est disponible en 38 !"}]
    with (
        FAKES[provider](api_key=API_KEY, tool_script=script) as fake,
        pytest.raises(LLMError, match="without looking it up"),
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    ((_, content, is_error),) = _tool_messages(provider, fake.requests[-1].json())
    assert '"found": false' in content and not is_error  # the lookup itself went through


def test_a_size_the_lookup_did_not_return_is_refused(shop, lilas, matcher, provider):
    script = [LOOKUP, {"text": "Oui, nous l'avons en 42 !"}]
    with (
        FAKES[provider](api_key=API_KEY, tool_script=script) as fake,
        pytest.raises(LLMError, match=r"sizes \['42'\]"),
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)


def test_a_have_claim_after_a_lookup_that_found_it_goes_through(shop, lilas, matcher, provider):
    script = [LOOKUP, {"text": "Oui, nous l'avons en 38 ! — Boutique Coccinelle"}]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url), shop=shop)
    assert text == "Oui, nous l'avons en 38 ! — Boutique Coccinelle"


def test_tool_rounds_share_one_time_budget(shop, provider, monkeypatch):
    """Each lookup here 'takes' one LLM_TIMEOUT on a fake clock: the reply gives up after the total
    budget (two timeouts) instead of going on for every round."""
    now = [1000.0]
    monkeypatch.setattr(llm, "_clock", lambda: now[0])

    def slow_lookup(shop, arguments):
        now[0] += 5.0
        return {"found": False, "reason": "the shop does not sell this"}

    monkeypatch.setitem(
        llm_tools._REGISTRY, "check_stock", llm_tools.Tool("check_stock", "", {"type": "object"}, slow_lookup)
    )
    with (
        FAKES[provider](api_key=API_KEY, tool_script=[LOOKUP]) as fake,
        pytest.raises(LLMError, match="time budget") as error,
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url, timeout=5.0), shop=shop)
    assert not error.value.permanent
    assert len(fake.requests) == 2  # the third request would start with no time left


def test_without_a_shop_no_tools_are_offered_and_stock_talk_is_refused(provider):
    with (
        FAKES[provider](api_key=API_KEY, reply_text="Yes, we have it in stock!") as fake,
        pytest.raises(LLMError, match="without looking it up"),
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert "tools" not in fake.requests[0].json()


# --- the fakes hold us to the vendors' rules ----------------------------------------------------


def test_the_fakes_refuse_unanswered_tool_calls(provider):
    from coccinelle import http

    if provider == "openai":
        call = {"id": "call_1", "type": "function", "function": {"name": "check_stock", "arguments": "{}"}}
        messages = [
            {"role": "user", "content": "Robe ?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "user", "content": "Alors ?"},
        ]
        body = {"model": "m", "messages": messages, "tools": [llm_tools.openai_spec(_tool())]}
        path, headers = "/v1/chat/completions", {"Authorization": f"Bearer {API_KEY}"}
    else:
        use = {"type": "tool_use", "id": "toolu_1", "name": "check_stock", "input": {}}
        messages = [
            {"role": "user", "content": "Robe ?"},
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "{}"}]},
        ]
        body = {
            "model": "m",
            "max_tokens": 10,
            "messages": messages,
            "tools": [llm_tools.anthropic_spec(_tool())],
        }
        path, headers = "/v1/messages", {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
    with FAKES[provider](api_key=API_KEY) as fake, pytest.raises(http.ExternalServiceError) as error:
        http.request("POST", fake.url + path, json=body, headers=headers)
    assert error.value.status == 400
    assert ("call_1" if provider == "openai" else "toolu_2") in str(error.value.body)


def _tool():
    return llm_tools.Tool("check_stock", "d", llm_tool.SCHEMA, llm_tool.check_stock, True)


# --- the whole flow: a refused reply leaves the offline engine to answer ------------------------------

SID = "AC" + "1" * 32


@pytest.fixture
def twilio_api(settings, shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    with FakeTwilioAPI(account_sid=SID, auth_token=TWILIO_TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TWILIO_TOKEN
        settings.TWILIO_API_BASE = fake.url
        yield fake


# A question the catalogue's own answer leaves alone (it points at a photo: catalog.matching says "not a
# stock question"), so the LLM writes the reply: the model may still look it up.
POINTING = "Bonjour, celle de votre vitrine, vous l'avez encore en 38 ?"


def _post(client, settings, provider, fake, question=POINTING):
    settings.LLM_PROVIDER, settings.LLM_BASE_URL = provider, fake.url
    settings.LLM_API_KEY, settings.LLM_MODEL, settings.LLM_TIMEOUT = API_KEY, "test-model", 2.0
    params = {"MessageSid": "SM" + "f" * 32, "AccountSid": SID, "From": "+33698765432"}
    post_twilio(client, SMS_URL, {**params, "To": "+33757000000", "Body": question})
    return Interaction.objects.get(direction="outbound")


def test_the_pointing_question_is_left_to_the_llm_by_the_catalogue(shop, lilas):
    assert match_question(POINTING, shop_catalogue(shop=shop)).kind == "not_a_stock_question"


def test_a_question_the_catalogue_answers_is_answered_from_it_even_with_an_llm(
    client, settings, shop, lilas, twilio_api, provider
):
    """Its figures were read in the turn and its offer is kept for the "oui": the LLM is not asked."""
    with FAKES[provider](api_key=API_KEY, reply_text="Oui, il en reste 9 !") as fake:
        reply = _post(client, settings, provider, fake, question=QUESTION)
    assert not [request for request in fake.requests if request.method == "POST"]
    assert "Il en reste 2" in reply.body and "Robe Lilas" in reply.body


def test_a_looked_up_answer_goes_to_the_customer(
    client, settings, shop, lilas, matcher, twilio_api, provider
):
    script = [LOOKUP, {"text": "Oui, il en reste {0[variants][0][available]} en 38 !"}]
    with FAKES[provider](api_key=API_KEY, tool_script=script) as fake:
        reply = _post(client, settings, provider, fake)
    assert reply.body == "Oui, il en reste 2 en 38 !"
    assert twilio_api.requests[-1].form()["Body"] == reply.body


def test_an_unlooked_up_stock_answer_is_replaced_by_the_offline_one(
    client, settings, shop, lilas, twilio_api, provider, caplog
):
    with (
        FAKES[provider](api_key=API_KEY, reply_text="Oui, il en reste 3 en 38 !") as fake,
        caplog.at_level(logging.WARNING),
    ):
        reply = _post(client, settings, provider, fake)
    assert reply.body and "il en reste 3" not in reply.body
    assert twilio_api.requests[-1].form()["Body"] == reply.body
    assert "offline engine answers" in caplog.text


def test_catalogue_type_is_what_the_handler_builds(shop, lilas):
    catalogue = shop_catalogue(shop=shop)
    assert isinstance(catalogue, Catalogue)
    assert {(i.sku, i.available, i.price) for i in catalogue.items} == {
        ("LIL-38", 2, Decimal("89.00")),
        ("LIL-40", 0, Decimal("89.00")),
    }


def test_a_server_without_tool_support_still_answers_without_lookups(shop, lilas):
    """Many local models (Ollama) refuse `tools`: the reply is written without them, and so may not
    state stock (the guard has no lookup to accept)."""
    answer = "Un membre de l'équipe regarde et vous répond vite."
    with FakeOpenAI(
        api_key=API_KEY, tools_unsupported=True, legacy_max_tokens=True, reply_text=answer
    ) as fake:
        assert llm_reply(CONVERSATION, config=config("openai", fake.url), shop=shop) == answer
    assert ["tools" in r.json() for r in fake.requests] == [True, True, False]
    assert "max_tokens" in fake.requests[-1].json()


def test_anthropic_text_before_a_lookup_goes_back_with_it(shop, lilas, matcher):
    """Claude often says what it does before the tool_use block: the whole turn is sent back."""
    script = [{**LOOKUP, "text_before": "Je regarde."}, {"text": "Oui, {0[variants][0][available]} en 38."}]
    with FakeAnthropic(api_key=API_KEY, tool_script=script) as fake:
        text = llm_reply(CONVERSATION, config=config("anthropic", fake.url), shop=shop)
    assert text == "Oui, 2 en 38."
    assistant = fake.requests[-1].json()["messages"][-2]
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use"]
    assert assistant["content"][1]["id"] == fake.issued_ids[0]
