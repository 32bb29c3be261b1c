"""Loopback fakes of the two LLM protocols: OpenAI-compatible chat completions and Anthropic messages.

Both check what the real services check (auth headers, required fields, Anthropic's message rules)
and answer with the vendors' own body shapes. Switches:
- `reply_text`: what the model says (None = an empty answer, the way a refusal looks);
- `mode`: "ok", "slow" (answers after `delay` seconds), "rate_limited" (429), "malformed" (200
  without choices/content), "overloaded" (Anthropic 529, OpenAI 503), "server_error" (500),
  "insufficient_quota" (OpenAI's non-retryable 429);
- `api_key=None`: no key is checked (a local server such as Ollama);
- FakeOpenAI(`legacy_max_tokens=True`): a server that rejects max_completion_tokens (old vLLM).

A 401 echoes the key it received in full: worse than the real services (which mask it), so tests
prove our errors never repeat it.
"""

import threading
import time

from tests.fakes import FakeServer

MODES = {"ok", "slow", "rate_limited", "malformed", "overloaded", "server_error", "insufficient_quota"}


def _header(request, name: str) -> str | None:
    """HTTP header names are case-insensitive; the recorded dict keeps the sender's spelling."""
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


class _FakeLLM(FakeServer):
    path = ""

    def __init__(self, *, api_key="test-key", reply_text="Bonjour ! — Boutique", mode="ok", delay=2.0):
        super().__init__()
        assert mode in MODES, mode
        self.api_key, self.reply_text, self.mode, self.delay = api_key, reply_text, mode, delay
        self._closing = threading.Event()

    def __exit__(self, *exc):
        self._closing.set()  # wake a "slow" handler so the server shuts down at once
        super().__exit__(*exc)

    def handle(self, request):
        if request.method != "POST" or request.path != self.path:
            return self.error(404, "not_found_error", f"Unknown path {request.path}")
        problem = self.check_auth(request) if self.api_key is not None else None
        if problem:
            return problem
        try:
            body = request.json()
        except ValueError:
            return self.error(
                400, "invalid_request_error", "We could not parse the JSON body of your request."
            )
        problem = self.check_body(body) if isinstance(body, dict) else "body must be a JSON object"
        if problem:
            return self.error(400, "invalid_request_error", problem)
        return self.answer(body)

    def answer(self, body):
        if self.mode == "slow":
            self._closing.wait(self.delay)
            if self._closing.is_set():
                return 503, b"", {}  # shutting down; the client gave up long ago
        if self.mode in ("rate_limited", "overloaded", "server_error", "insufficient_quota"):
            return self.failure()
        if self.mode == "malformed":
            return 200, self.malformed_body(body), {}
        return 200, self.success_body(body), {}


class FakeOpenAI(_FakeLLM):
    path = "/v1/chat/completions"
    ROLES = {"system", "developer", "user", "assistant", "tool"}

    def __init__(self, *, legacy_max_tokens=False, **kwargs):
        super().__init__(**kwargs)
        self.legacy_max_tokens = legacy_max_tokens

    def error(self, status, type_, message, code=None, param=None):
        return status, {"error": {"message": message, "type": type_, "param": param, "code": code}}, {}

    def check_auth(self, request):
        auth = _header(request, "Authorization") or ""
        if auth != f"Bearer {self.api_key}":
            key = auth.removeprefix("Bearer ")
            return self.error(
                401, "invalid_request_error", f"Incorrect API key provided: {key}.", "invalid_api_key"
            )
        return None

    def check_body(self, body):
        if self.legacy_max_tokens and "max_completion_tokens" in body:
            return "Unrecognized request argument supplied: max_completion_tokens"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in self.ROLES:
                return f"Invalid value for 'messages[{i}].role'"
            if not isinstance(message.get("content"), str):
                return f"Invalid type for 'messages[{i}].content': expected a string"
        return None

    def failure(self):
        return {
            "rate_limited": self.error(
                429,
                "requests",
                "Rate limit reached for requests. Please try again in 20s.",
                "rate_limit_exceeded",
            ),
            "insufficient_quota": self.error(
                429,
                "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
            ),
            "overloaded": self.error(503, "server_error", "The engine is currently overloaded."),
            "server_error": self.error(
                500, "server_error", "The server had an error while processing your request."
            ),
        }[self.mode]

    def malformed_body(self, body):
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
        }

    def success_body(self, body):
        message = {"role": "assistant", "content": self.reply_text, "refusal": None}
        if self.reply_text is None:
            message["refusal"] = "I'm sorry, I can't help with that."
        return {
            **self.malformed_body(body),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140},
        }


class FakeAnthropic(_FakeLLM):
    path = "/v1/messages"

    def error(self, status, type_, message):
        return status, {"type": "error", "error": {"type": type_, "message": message}}, {}

    def check_auth(self, request):
        if _header(request, "x-api-key") != self.api_key:
            key = _header(request, "x-api-key")
            return self.error(401, "authentication_error", f"invalid x-api-key: {key}")
        if not _header(request, "anthropic-version"):
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    def check_body(self, body):
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model: Field required"
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            return "max_tokens: Field required"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: Field required"
        return self._check_messages(messages)

    def _check_messages(self, messages):
        expected = "user"
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role == "system":
                return (
                    'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                    'parameter, not "system" as an input message role.'
                )
            if role not in ("user", "assistant"):
                return f"messages.{i}.role: Input should be 'user' or 'assistant'"
            if i == 0 and role != "user":
                return 'messages: first message must use the "user" role'
            if role != expected:
                return (
                    'messages: roles must alternate between "user" and "assistant", '
                    f'but found multiple "{role}" roles in a row'
                )
            if not isinstance(message.get("content"), str) or not message["content"].strip():
                return f"messages.{i}: text content blocks must be non-empty"
            expected = "assistant" if role == "user" else "user"
        return None

    def failure(self):
        return {
            "rate_limited": self.error(
                429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"
            ),
            "overloaded": self.error(529, "overloaded_error", "Overloaded"),
            "server_error": self.error(500, "api_error", "Internal server error"),
            "insufficient_quota": self.error(
                400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API."
            ),
        }[self.mode]

    def malformed_body(self, body):
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"]}

    def success_body(self, body):
        content = [] if self.reply_text is None else [{"type": "text", "text": self.reply_text}]
        return {
            **self.malformed_body(body),
            "content": content,
            "stop_reason": "end_turn" if content else "refusal",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 20},
        }
