"""Loopback fakes of the two LLM protocols: OpenAI-compatible chat completions and Anthropic messages.

Both check what the real services check (auth headers, required fields, Anthropic's message rules)
and answer with the vendors' own body shapes. Switches:
- `reply_text`: what the model says (None = an empty answer, the way a refusal looks);
- `mode`: "ok", "slow" (answers after `delay` seconds), "rate_limited" (429), "malformed" (200
  without choices/content), "overloaded" (Anthropic 529, OpenAI 503), "server_error" (500),
  "insufficient_quota" (OpenAI's non-retryable 429);
- `api_key=None`: no key is checked (a local server such as Ollama);
- FakeOpenAI(`legacy_max_tokens=True`): a server that rejects max_completion_tokens (old vLLM);
  (`tools_unsupported=True`): a model served without tool support (Ollama's 400 for such models);
- `tool_script`: the model calls tools. A list of turns, one per answer: `{"tool_calls": [{"name",
  "arguments"}]}` (arguments a dict, or a string sent as is: OpenAI's arguments are a JSON string the
  model may garble) or `{"text": ...}`: the final answer, a str formatted with the results of the
  request's last tool round (`"{0[variants][0][available]}"`) or a callable given that list. Which turn
  answers a request is read from the request itself (how many tool rounds it already holds), the last
  turn repeating; when the request forbids tools (tool_choice none, or no tools) the model writes
  (`reply_text`, or the script's text turn). `issued_ids` lists the call ids handed out.

Both validate the tool rules the vendors enforce (every call answered right after, ids matching, tools
declared) and answer 400 in their own error shape otherwise.

A 401 echoes the key it received in full: worse than the real services (which mask it), so tests
prove our errors never repeat it.
"""

import json
import re
import threading
import time
import uuid

from tests.fakes import FakeServer

MODES = {"ok", "slow", "rate_limited", "malformed", "overloaded", "server_error", "insufficient_quota"}
_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _header(request, name: str) -> str | None:
    """HTTP header names are case-insensitive; the recorded dict keeps the sender's spelling."""
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


class _FakeLLM(FakeServer):
    path = ""

    def __init__(
        self, *, api_key="test-key", reply_text="Bonjour ! — Boutique", mode="ok", delay=2.0, tool_script=None
    ):
        super().__init__()
        assert mode in MODES, mode
        self.api_key, self.reply_text, self.mode, self.delay = api_key, reply_text, mode, delay
        self.tool_script = list(tool_script or [])
        self.issued_ids: list[str] = []
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
        turn = self.scripted_turn(body)
        if turn is not None and turn.get("tool_calls"):
            return 200, self.tool_call_body(body, turn), {}
        return 200, self.success_body(body, self.final_text(body, turn)), {}

    def scripted_turn(self, body):
        """The script's turn for this request, or None (no script: answer reply_text)."""
        if not self.tool_script:
            return None
        rounds = self.tool_rounds(body["messages"])
        turn = self.tool_script[min(rounds, len(self.tool_script) - 1)]
        if turn.get("tool_calls") and not self.may_call_tools(body):
            # Tools forbidden: a real model writes instead; the script's text turn if it has one.
            return next((t for t in self.tool_script if "text" in t), {"text": self.reply_text})
        return turn

    def final_text(self, body, turn):
        if turn is None:
            return self.reply_text
        text = turn["text"]
        results = self.last_results(body["messages"])
        return text(results) if callable(text) else text.format(*results)

    def new_id(self, prefix):
        call_id = f"{prefix}{uuid.uuid4().hex[:24]}"
        self.issued_ids.append(call_id)
        return call_id


class FakeOpenAI(_FakeLLM):
    path = "/v1/chat/completions"
    ROLES = {"system", "developer", "user", "assistant", "tool"}

    def __init__(self, *, legacy_max_tokens=False, tools_unsupported=False, **kwargs):
        super().__init__(**kwargs)
        self.legacy_max_tokens = legacy_max_tokens
        self.tools_unsupported = tools_unsupported

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
        if self.tools_unsupported and "tools" in body:
            return f"registry.ollama.ai/library/{body.get('model')}:latest does not support tools"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in self.ROLES:
                return f"Invalid value for 'messages[{i}].role'"
            content = message.get("content")
            if not isinstance(content, str) and not (content is None and message.get("tool_calls")):
                return f"Invalid type for 'messages[{i}].content': expected a string"
        return self._check_tools(body) or self._check_tool_messages(messages)

    def _check_tools(self, body):
        tools = body.get("tools")
        if tools is not None:
            for i, tool in enumerate(tools if isinstance(tools, list) else [None]):
                function = tool.get("function") if isinstance(tool, dict) else None
                if not isinstance(function, dict) or tool.get("type") != "function":
                    return f"Missing required parameter: 'tools[{i}].function'."
                if not _TOOL_NAME_RE.match(str(function.get("name"))):
                    return f"Invalid 'tools[{i}].function.name': string does not match pattern."
                if not isinstance(function.get("parameters", {}), dict):
                    return f"Invalid type for 'tools[{i}].function.parameters': expected an object"
        choice = body.get("tool_choice")
        if choice is not None and not tools:
            return (
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
            )
        if choice is not None and choice not in ("none", "auto", "required") and not isinstance(choice, dict):
            return "Invalid value for 'tool_choice'"
        return None

    def _check_tool_messages(self, messages):
        """Every assistant tool_calls answered by tool messages right after it, one per id."""
        pending: set[str] = set()
        for i, message in enumerate(messages):
            if message["role"] == "tool":
                if message.get("tool_call_id") not in pending:
                    return (
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                        "message with 'tool_calls'."
                    )
                pending.discard(message["tool_call_id"])
                continue
            if pending:
                return self._unanswered(pending)
            for j, call in enumerate(message.get("tool_calls") or []):
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or call.get("type") != "function" or not call.get("id"):
                    return f"Missing required parameter: 'messages[{i}].tool_calls[{j}].function'."
                if not isinstance(function.get("arguments"), str):
                    where = f"messages[{i}].tool_calls[{j}].function.arguments"
                    return f"Invalid type for '{where}': expected a string"
                pending.add(call["id"])
        return self._unanswered(pending) if pending else None

    def _unanswered(self, pending):
        return (
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: "
            + ", ".join(sorted(pending))
        )

    def tool_rounds(self, messages):
        return sum(1 for m in messages if m["role"] == "assistant" and m.get("tool_calls"))

    def may_call_tools(self, body):
        return bool(body.get("tools")) and body.get("tool_choice") != "none"

    def last_results(self, messages):
        """The JSON results of the tool messages at the end of the request (the last round)."""
        results = []
        for message in reversed(messages):
            if message["role"] != "tool":
                break
            results.insert(0, json.loads(message["content"]))
        return results

    def tool_call_body(self, body, turn):
        calls = []
        for call in turn["tool_calls"]:
            arguments = call.get("arguments", {})
            arguments = arguments if isinstance(arguments, str) else json.dumps(arguments)
            calls.append(
                {
                    "id": self.new_id("call_"),
                    "type": "function",
                    "function": {"name": call["name"], "arguments": arguments},
                }
            )
        message = {
            "role": "assistant",
            "content": turn.get("text_before"),
            "tool_calls": calls,
            "refusal": None,
        }
        return {
            **self.malformed_body(body),
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 150, "completion_tokens": 25, "total_tokens": 175},
        }

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

    def success_body(self, body, text):
        message = {"role": "assistant", "content": text, "refusal": None}
        if text is None:
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
        return self._check_messages(messages) or self._check_tools(body) or self._check_tool_blocks(body)

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
            problem = self._check_content(i, message.get("content"))
            if problem:
                return problem
            expected = "assistant" if role == "user" else "user"
        return None

    def _check_content(self, i, content):
        if isinstance(content, str):
            return None if content.strip() else f"messages.{i}: text content blocks must be non-empty"
        if not isinstance(content, list) or not content:
            return f"messages.{i}.content: Input should be a valid string or list"
        for j, block in enumerate(content):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text" and not str(block.get("text") or "").strip():
                return f"messages.{i}: text content blocks must be non-empty"
            if kind not in ("text", "tool_use", "tool_result"):
                return f"messages.{i}.content.{j}: Input tag {kind!r} found using 'type' does not match"
        return None

    def _check_tools(self, body):
        tools = body.get("tools")
        if tools is not None:
            for i, tool in enumerate(tools if isinstance(tools, list) else [None]):
                if not isinstance(tool, dict) or not _TOOL_NAME_RE.match(str(tool.get("name"))):
                    return f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                schema = tool.get("input_schema")
                if not isinstance(schema, dict) or schema.get("type") != "object":
                    return f"tools.{i}.custom.input_schema: Field required"
        choice = body.get("tool_choice")
        if choice is not None and (
            not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none")
        ):
            return "tool_choice: Input tag found using 'type' does not match any of the expected tags"
        return None

    def _check_tool_blocks(self, body):
        """tool_use answered by tool_result blocks in the very next (user) message, ids matching."""
        messages = body["messages"]
        uses_tools = any(self._blocks(m, "tool_use") or self._blocks(m, "tool_result") for m in messages)
        if uses_tools and not body.get("tools"):
            return "Requests which include `tool_use` or `tool_result` blocks must define tools."
        previous_uses: list[str] = []
        for i, message in enumerate(messages):
            results = [b.get("tool_use_id") for b in self._blocks(message, "tool_result")]
            if message["role"] == "assistant" and results:
                return f"messages.{i}: `tool_result` blocks can only be in `user` messages"
            if message["role"] == "user" and self._blocks(message, "tool_use"):
                return f"messages.{i}: `tool_use` blocks can only be in `assistant` messages"
            unexpected = [r for r in results if r not in previous_uses]
            if unexpected:
                return (
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{unexpected[0]}. Each `tool_result` block must have a corresponding `tool_use` block "
                    "in the previous message."
                )
            missing = [u for u in previous_uses if u not in results]
            if missing:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
            content = message["content"]
            if results and (not isinstance(content, list) or content[0].get("type") != "tool_result"):
                return f"messages.{i}: tool_result blocks must come first in the user message"
            previous_uses = [b.get("id") for b in self._blocks(message, "tool_use")]
        if previous_uses:
            return (
                f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(previous_uses)}."
            )
        return None

    @staticmethod
    def _blocks(message, kind):
        content = message.get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == kind]

    def tool_rounds(self, messages):
        return sum(1 for m in messages if m["role"] == "assistant" and self._blocks(m, "tool_use"))

    def may_call_tools(self, body):
        return bool(body.get("tools")) and (body.get("tool_choice") or {}).get("type") != "none"

    def last_results(self, messages):
        last = messages[-1]
        return [json.loads(b["content"]) for b in self._blocks(last, "tool_result")]

    def tool_call_body(self, body, turn):
        content = [{"type": "text", "text": turn["text_before"]}] if turn.get("text_before") else []
        for call in turn["tool_calls"]:
            content.append(
                {
                    "type": "tool_use",
                    "id": self.new_id("toolu_01"),
                    "name": call["name"],
                    "input": call.get("arguments", {}),
                }
            )
        return {
            **self.malformed_body(body),
            "content": content,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 150, "output_tokens": 25},
        }

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

    def success_body(self, body, text):
        content = [] if text is None else [{"type": "text", "text": text}]
        return {
            **self.malformed_body(body),
            "content": content,
            "stop_reason": "end_turn" if content else "refusal",
            "stop_sequence": None,
            "usage": {"input_tokens": 120, "output_tokens": 20},
        }
