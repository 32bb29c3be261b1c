"""Optional LLM reply engine against loopback fakes of both protocols. No database."""

import time
from datetime import date, datetime
from datetime import time as clock
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from shopinfo.hours import Hours, HoursException, TimeRange
from tests.fakes.llm_servers import FakeAnthropic, FakeOpenAI
from webhooks.llm import (
    Conversation,
    LLMConfig,
    LLMError,
    config_from_settings,
    llm_reply,
    system_prompt,
)
from webhooks.replies import ShopInfo

API_KEY = "sk-test-SECRET-0123456789"
SHOP = ShopInfo(
    name="Boutique Coccinelle",
    language="fr",
    address="12 rue des Lilas, 69002 Lyon",
    hours_note="Mar-Sam 10h-19h, Dim 14h-18h",
    website="https://coccinelle.example",
)
HISTORY = (
    ("customer", "Bonjour, vous avez la robe rouge en 38 ?"),
    ("shop", "Bonjour Léa, un membre de l'équipe vous répond vite. — Boutique Coccinelle"),
    ("customer", "Merci !"),
    ("customer", "Vous êtes ouverts dimanche ?"),
)
CONVERSATION = Conversation(
    shop=SHOP, customer_first_name="Léa", segment="vip", language="fr", history=HISTORY
)
FAKES = {"openai": FakeOpenAI, "anthropic": FakeAnthropic}


def config(provider, url, *, api_key=API_KEY, timeout=5.0):
    return LLMConfig(provider=provider, base_url=url, api_key=api_key, model="test-model", timeout=timeout)


@pytest.fixture(params=["openai", "anthropic"])
def provider(request):
    return request.param


def fake_for(provider, **switches):
    return FAKES[provider](api_key=API_KEY, **switches)


# --- success --------------------------------------------------------------------------------


def test_openai_success_sends_protocol_and_returns_text():
    with FakeOpenAI(api_key=API_KEY, reply_text="  Oui, dimanche 14h-18h. — Boutique Coccinelle \n") as fake:
        text = llm_reply(CONVERSATION, config=config("openai", fake.url))

    assert text == "Oui, dimanche 14h-18h. — Boutique Coccinelle"
    (sent,) = fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    body = sent.json()
    assert body["model"] == "test-model"
    assert body["max_completion_tokens"] == 200 and body["temperature"] == 0.3
    system, *turns = body["messages"]
    assert system["role"] == "system"
    assert "Mar-Sam 10h-19h, Dim 14h-18h" in system["content"] and "French" in system["content"]
    assert [m["role"] for m in turns] == ["user", "assistant", "user", "user"]
    assert turns[-1] == {"role": "user", "content": "Vous êtes ouverts dimanche ?"}


def test_anthropic_success_sends_top_level_system_and_alternating_roles():
    with FakeAnthropic(api_key=API_KEY, reply_text="Oui, de 14h à 18h. — Boutique Coccinelle") as fake:
        text = llm_reply(CONVERSATION, config=config("anthropic", fake.url + "/v1/"))

    assert text == "Oui, de 14h à 18h. — Boutique Coccinelle"
    (sent,) = fake.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in sent.headers
    body = sent.json()
    assert body["model"] == "test-model" and body["max_tokens"] == 200
    assert "Mar-Sam 10h-19h, Dim 14h-18h" in body["system"] and "French" in body["system"]
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]  # the two last customer messages merged
    assert body["messages"][-1]["content"] == "Merci !\nVous êtes ouverts dimanche ?"


def test_anthropic_drops_a_leading_shop_turn():
    conversation = Conversation(
        SHOP, None, "prospect", "en", (("shop", "New collection!"), ("customer", "Hi"))
    )
    with FakeAnthropic(api_key=API_KEY, reply_text="Hello!") as fake:
        assert llm_reply(conversation, config=config("anthropic", fake.url)) == "Hello!"
    assert fake.requests[0].json()["messages"] == [{"role": "user", "content": "Hi"}]


def test_history_is_capped_to_recent_turns_and_characters(provider):
    long_history = tuple(
        ("customer" if i % 2 == 0 else "shop", f"message {i} " + "x" * 900) for i in range(30)
    ) + (("customer", "Le dernier message"),)
    conversation = Conversation(SHOP, "Léa", "active", "fr", long_history)
    with fake_for(provider, reply_text="Ok.") as fake:
        llm_reply(conversation, config=config(provider, fake.url))
    turns = [m for m in fake.requests[0].json()["messages"] if m["role"] != "system"]
    assert len(turns) <= 10
    assert sum(len(m["content"]) for m in turns) <= 4000
    assert turns[-1]["content"].endswith("Le dernier message")


def test_system_prompt_names_unknowns_customer_and_rules():
    bare = Conversation(
        ShopInfo(name="Chez Lou", language="fr"), None, "prospect", "de", (("customer", "Hallo"),)
    )
    prompt = system_prompt(bare)
    assert "Opening hours: unknown" in prompt and "Address: unknown" in prompt and "Phone: unknown" in prompt
    assert "First name: unknown" in prompt and "prospect" in prompt
    assert "German" in prompt and "Chez Lou" in prompt
    assert "never invent" in prompt.lower() and "member of the team" in prompt


def test_system_prompt_gives_the_structured_hours_today_and_the_facts_as_the_only_source():
    ten_to_seven = (TimeRange(clock(10), clock(19)),)
    shop = ShopInfo(
        name="Chez Lou",
        language="fr",
        hours=Hours(
            weekly=((), *[ten_to_seven] * 5, ()),
            exceptions=(HoursException(date(2026, 12, 25), date(2026, 12, 25), (), "Noël"),),
        ),
        facts={
            "delivery": {"": "France en 48 h.", "en": "France in 48 hours."},
            "parking": {"": "Parking Bellecour."},
        },
        signature="Lou",
        now=datetime(2026, 12, 22, 15, 0, tzinfo=ZoneInfo("Europe/Paris")),
    )
    prompt = system_prompt(Conversation(shop, None, "active", "en", (("customer", "Hi"),)))
    assert "Now at the shop: Tuesday 22 December 2026, 15:00" in prompt
    assert "Opening hours: Tuesday to Saturday, 10 am–7 pm; closed on Monday and Sunday" in prompt
    assert "Noël" in prompt  # the coming holiday, dated
    # The owner's English version for an English reply; their own text where they wrote no other.
    assert "Delivery: France in 48 hours." in prompt and "Parking and access: Parking Bellecour." in prompt
    assert "Returns and exchanges: unknown" in prompt
    assert "End with this signature on its own line: Lou" in prompt


def test_long_answer_is_cut_at_a_sentence_boundary(provider):
    answer = "Bonjour Léa. " + "Nous avons de belles robes en boutique. " * 20  # ~800 characters
    with fake_for(provider, reply_text=answer) as fake:
        text = llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert len(text) <= 600 and text.endswith(".")


# --- failures -------------------------------------------------------------------------------


def test_timeout_is_quick_and_retryable(provider):
    with fake_for(provider, mode="slow", delay=2.0) as fake:
        started = time.monotonic()
        with pytest.raises(LLMError) as caught:
            llm_reply(CONVERSATION, config=config(provider, fake.url, timeout=0.5))
        elapsed = time.monotonic() - started
    assert caught.value.permanent is False
    assert elapsed < 1.5
    assert len(fake.requests) == 1  # no retry: the offline engine answers instead


@pytest.mark.parametrize("mode", ["rate_limited", "server_error", "overloaded"])
def test_rate_limits_and_server_errors_are_retryable(provider, mode):
    with fake_for(provider, mode=mode) as fake, pytest.raises(LLMError) as caught:
        llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert caught.value.permanent is False
    assert len(fake.requests) == 1


def test_anthropic_overloaded_is_529():
    with FakeAnthropic(api_key=API_KEY, mode="overloaded") as fake, pytest.raises(LLMError) as caught:
        llm_reply(CONVERSATION, config=config("anthropic", fake.url))
    assert caught.value.status == 529 and not caught.value.permanent


def test_insufficient_quota_is_permanent(provider):
    with fake_for(provider, mode="insufficient_quota") as fake, pytest.raises(LLMError) as caught:
        llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert caught.value.permanent is True


@pytest.mark.parametrize("reply_text", [None, "", "   \n ", "x" * 1001])
def test_unusable_answers_are_malformed(provider, reply_text):
    with (
        fake_for(provider, reply_text=reply_text) as fake,
        pytest.raises(LLMError, match="malformed answer") as caught,
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert caught.value.permanent is True


def test_answer_missing_fields_is_malformed(provider):
    with (
        fake_for(provider, mode="malformed") as fake,
        pytest.raises(LLMError, match="malformed answer") as caught,
    ):
        llm_reply(CONVERSATION, config=config(provider, fake.url))
    assert caught.value.permanent is True


def test_wrong_key_is_permanent_and_never_leaks(provider):
    wrong_key = "sk-wrong-LEAKME-987654321"
    with fake_for(provider) as fake:
        cfg = config(provider, fake.url, api_key=wrong_key)
        with pytest.raises(LLMError) as caught:
            llm_reply(CONVERSATION, config=cfg)
    assert caught.value.permanent is True and caught.value.status == 401
    assert "HTTP 401" in str(caught.value)
    assert wrong_key not in str(caught.value) and wrong_key not in repr(caught.value)
    assert wrong_key not in repr(cfg)


def test_openai_falls_back_to_max_tokens_once():
    with FakeOpenAI(api_key=API_KEY, legacy_max_tokens=True, reply_text="Bonjour !") as fake:
        assert llm_reply(CONVERSATION, config=config("openai", fake.url)) == "Bonjour !"
    first, second = (r.json() for r in fake.requests)
    assert first["max_completion_tokens"] == 200 and "max_tokens" not in first
    assert second["max_tokens"] == 200 and "max_completion_tokens" not in second


def test_openai_other_400_is_not_retried():
    with FakeOpenAI(api_key=API_KEY) as fake:
        cfg = LLMConfig("openai", fake.url, API_KEY, model="", timeout=5.0)  # the fake requires a model
        with pytest.raises(LLMError) as caught:
            llm_reply(CONVERSATION, config=cfg)
    assert caught.value.permanent is True and len(fake.requests) == 1


def test_openai_local_server_without_key_sends_no_authorization():
    with FakeOpenAI(api_key=None, reply_text="Hi!") as fake:  # like Ollama: no key checked
        assert llm_reply(CONVERSATION, config=config("openai", fake.url + "/v1", api_key="")) == "Hi!"
    assert "Authorization" not in fake.requests[0].headers


def test_conversation_rejects_a_history_not_ending_with_the_customer():
    with pytest.raises(ValueError, match="customer"):
        Conversation(SHOP, None, "vip", "fr", (("customer", "Bonjour"), ("shop", "Bonjour !")))


# --- configuration --------------------------------------------------------------------------


def settings(**values):
    base = {"LLM_PROVIDER": "", "LLM_BASE_URL": "", "LLM_API_KEY": "", "OPENAI_API_KEY": "", "LLM_MODEL": ""}
    return SimpleNamespace(**{**base, **values})


def test_config_is_off_when_provider_is_empty():
    assert config_from_settings(settings(LLM_API_KEY=API_KEY, LLM_MODEL="gpt-4o-mini")) is None
    assert config_from_settings(SimpleNamespace()) is None  # settings not declared at all


def test_config_falls_back_to_openai_api_key_and_defaults():
    cfg = config_from_settings(
        settings(LLM_PROVIDER="openai", OPENAI_API_KEY=API_KEY, LLM_MODEL="gpt-4o-mini")
    )
    assert cfg == LLMConfig("openai", "https://api.openai.com", API_KEY, "gpt-4o-mini", 8.0)
    assert API_KEY not in repr(cfg)


def test_config_prefers_llm_api_key_and_reads_anthropic_settings():
    cfg = config_from_settings(
        settings(
            LLM_PROVIDER="Anthropic",
            LLM_API_KEY="sk-ant-1",
            OPENAI_API_KEY="sk-openai",
            LLM_MODEL="claude-haiku",
            LLM_TIMEOUT="3",
        )
    )
    assert (cfg.provider, cfg.base_url, cfg.api_key, cfg.timeout) == (
        "anthropic",
        "https://api.anthropic.com",
        "sk-ant-1",
        3.0,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"LLM_PROVIDER": "gemini", "LLM_API_KEY": "k", "LLM_MODEL": "m"}, "LLM_PROVIDER"),
        ({"LLM_PROVIDER": "openai", "LLM_API_KEY": "k"}, "LLM_MODEL"),
        ({"LLM_PROVIDER": "openai", "LLM_MODEL": "m"}, "LLM_API_KEY"),
        (
            {"LLM_PROVIDER": "openai", "LLM_API_KEY": "k", "LLM_MODEL": "m", "LLM_TIMEOUT": "soon"},
            "LLM_TIMEOUT",
        ),
    ],
)
def test_config_errors_are_explicit(values, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        config_from_settings(settings(**values))


def test_config_allows_no_key_for_a_local_server():
    cfg = config_from_settings(
        settings(LLM_PROVIDER="openai", LLM_BASE_URL="http://localhost:11434/v1", LLM_MODEL="llama3.2")
    )
    assert cfg.api_key == "" and cfg.base_url == "http://localhost:11434/v1"
