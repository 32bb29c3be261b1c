"""Tools the LLM reply engine may call, and the rounds of calls within one reply.

webhooks never imports the apps whose data the tools read: an app registers its tool from its
AppConfig.ready() (catalog registers check_stock), and the handler gets the shop the reply is for, so
a tool reads that shop's data only. A tool's result goes back to the model as JSON; whatever goes wrong
in a call (an unknown tool, arguments that are not a JSON object, a handler that raises) becomes an
error result the model can read, never a crash of the reply.

The rounds: at most MAX_TOOL_ROUNDS answers that call tools, then one more request in which the model
may not call any (tool_choice none) and must write. Each request goes through the sender llm.py gives,
which keeps the per-request timeout and the reply's total time budget.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from webhooks import stock_claims
from webhooks.llm import LLMError

logger = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
# A model that asks for dozens of lookups at once is looping; the extra calls get an error result
# (every call must be answered, both vendors refuse a request with an unanswered one).
MAX_CALLS_PER_ROUND = 4
# A result is read by the model within a 200-token answer: anything longer is a handler bug.
MAX_RESULT_CHARS = 4000

Handler = Callable[[object, dict], dict]


class ToolError(Exception):
    """Raised by a handler for a call it cannot serve (a missing argument...): the model reads the
    message, nothing is logged as a failure."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    json_schema: dict  # JSON schema of the arguments object
    handler: Handler  # handler(shop, arguments) -> JSON-serialisable dict
    looks_up_stock: bool = False  # its results' `available` figures are the stock the reply may state


_REGISTRY: dict[str, Tool] = {}


def register_tool(name, description, json_schema, handler, *, looks_up_stock=False) -> Tool:
    """Offer a tool to the model (from an AppConfig.ready()). Registering a name again replaces it,
    so a reloaded app does not offer the tool twice."""
    tool = Tool(name, description, json_schema, handler, looks_up_stock)
    _REGISTRY[name] = tool
    return tool


def registered_tools() -> tuple[Tool, ...]:
    return tuple(_REGISTRY.values())


def stock_tool_names(tools) -> tuple[str, ...]:
    return tuple(tool.name for tool in tools if tool.looks_up_stock)


# --- one call -------------------------------------------------------------------------------


@dataclass
class Call:
    name: str
    arguments: dict | None
    result: dict
    is_error: bool


@dataclass
class Ledger:
    """What the tools were asked and answered during one reply: the stock the reply may state."""

    calls: list[Call] = field(default_factory=list)

    def found_lookups(self) -> list[Call]:
        """The stock lookups that found variants: an error or `found: false` ("the shop does not sell
        it") licenses no claim, or the model could look up anything, then say "disponible en 38"."""
        stock = _stock_names()
        return [c for c in self.calls if c.name in stock and not c.is_error and _found(c.result)]

    def stock_looked_up(self) -> bool:
        return bool(self.found_lookups())

    def available_figures(self) -> set[int]:
        figures: set[int] = set()
        for call in self.found_lookups():
            _collect_available(call.result, figures)
        return figures

    def looked_up_sizes(self) -> set[str]:
        return {
            v["size"]
            for call in self.found_lookups()
            for v in call.result["variants"]
            if isinstance(v, dict) and isinstance(v.get("size"), str) and v["size"].strip()
        }


def _found(result) -> bool:
    if not isinstance(result, dict):
        return False
    variants = result.get("variants")
    return result.get("found") is True and isinstance(variants, list) and bool(variants)


def _stock_names() -> set[str]:
    return set(stock_tool_names(registered_tools()))


def _collect_available(value, figures: set[int]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "available" and isinstance(item, int) and not isinstance(item, bool):
                figures.add(item)
            else:
                _collect_available(item, figures)
    elif isinstance(value, list):
        for item in value:
            _collect_available(item, figures)


def _error(message: str) -> dict:
    return {"error": message}


def run_tool(shop, name, arguments, ledger: Ledger) -> tuple[dict, bool]:
    """Call one tool; (result, is_error). `arguments`: a dict (Anthropic) or a JSON string (OpenAI)."""
    tool = _REGISTRY.get(name) if isinstance(name, str) else None
    args = _arguments(arguments)
    if tool is None:
        result, is_error = _error(f"unknown tool {str(name)[:64]!r}"), True
    elif args is None:
        result, is_error = _error("arguments must be a JSON object"), True
    else:
        result, is_error = _handled(tool, shop, args)
    ledger.calls.append(Call(str(name), args, result, is_error))
    return result, is_error


def _arguments(arguments) -> dict | None:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return None
    return arguments if isinstance(arguments, dict) else None


def _handled(tool: Tool, shop, args: dict) -> tuple[dict, bool]:
    missing = [key for key in tool.json_schema.get("required", ()) if key not in args]
    if missing:
        return _error(f"missing required argument(s): {', '.join(missing)}"), True
    try:
        result = tool.handler(shop, args)
        encoded = json.dumps(result)
    except ToolError as exc:
        return _error(str(exc)), True
    except Exception:
        # A bug in a tool must not cost the customer their answer: the model hears it failed.
        logger.exception("LLM tool %s failed", tool.name)
        return _error("the lookup failed"), True
    if not isinstance(result, dict) or len(encoded) > MAX_RESULT_CHARS:
        logger.error("LLM tool %s returned an unusable result (%d characters)", tool.name, len(encoded))
        return _error("the lookup failed"), True
    return result, False


def _content(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False)


# --- OpenAI-compatible rounds ---------------------------------------------------------------


def openai_spec(tool: Tool) -> dict:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.json_schema},
    }


def openai_rounds(send, payload: dict, tools, shop, ledger: Ledger) -> dict:
    """Ask until the model writes; the final answer's data. `send(payload) -> dict` is one request."""
    if tools:
        payload["tools"] = [openai_spec(tool) for tool in tools]
    for round_ in range(MAX_TOOL_ROUNDS + 1):
        if tools and round_ == MAX_TOOL_ROUNDS:
            payload["tool_choice"] = "none"  # enough lookups: the model must answer with what it has
        data = send(payload)
        message = _openai_message(data)
        calls = message.get("tool_calls") if message else None
        if not calls:
            return data
        if not tools or round_ == MAX_TOOL_ROUNDS or not isinstance(calls, list):
            raise LLMError("openai: malformed answer (tool calls it may not make)", permanent=True)
        payload["messages"].append(
            {"role": "assistant", "content": message.get("content"), "tool_calls": calls}
        )
        payload["messages"] += _openai_results(calls, shop, ledger)
    raise AssertionError("unreachable: the last round forbids tool calls")


def _openai_message(data: dict) -> dict | None:
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None  # _openai_text says what is wrong with it
    return message if isinstance(message, dict) else None


def _openai_results(calls: list, shop, ledger: Ledger) -> list[dict]:
    results = []
    for i, call in enumerate(calls):
        call = call if isinstance(call, dict) else {}
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        if i >= MAX_CALLS_PER_ROUND:
            result = _error("too many lookups at once")
        else:
            result, _ = run_tool(shop, function.get("name"), function.get("arguments"), ledger)
        results.append({"role": "tool", "tool_call_id": call.get("id"), "content": _content(result)})
    return results


# --- Anthropic rounds -----------------------------------------------------------------------


def anthropic_spec(tool: Tool) -> dict:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.json_schema}


def anthropic_rounds(send, payload: dict, tools, shop, ledger: Ledger) -> dict:
    if tools:
        payload["tools"] = [anthropic_spec(tool) for tool in tools]
    for round_ in range(MAX_TOOL_ROUNDS + 1):
        if tools and round_ == MAX_TOOL_ROUNDS:
            payload["tool_choice"] = {"type": "none"}
        data = send(payload)
        blocks = data.get("content") if isinstance(data.get("content"), list) else []
        uses = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not uses:
            return data
        if not tools or round_ == MAX_TOOL_ROUNDS:
            raise LLMError("anthropic: malformed answer (tool calls it may not make)", permanent=True)
        # The assistant turn goes back as it came (its text and tool_use blocks), then the results;
        # an empty text block would be refused ("text content blocks must be non-empty").
        kept = [b for b in blocks if isinstance(b, dict) and not _blank_text(b)]
        payload["messages"].append({"role": "assistant", "content": kept})
        payload["messages"].append({"role": "user", "content": _anthropic_results(uses, shop, ledger)})
    raise AssertionError("unreachable: the last round forbids tool calls")


def _blank_text(block: dict) -> bool:
    return block.get("type") == "text" and not str(block.get("text") or "").strip()


def _anthropic_results(uses: list[dict], shop, ledger: Ledger) -> list[dict]:
    results = []
    for i, use in enumerate(uses):
        if i >= MAX_CALLS_PER_ROUND:
            result, is_error = _error("too many lookups at once"), True
        else:
            result, is_error = run_tool(shop, use.get("name"), use.get("input"), ledger)
        block = {"type": "tool_result", "tool_use_id": use.get("id"), "content": _content(result)}
        if is_error:
            block["is_error"] = True
        results.append(block)
    return results


# --- the final answer -----------------------------------------------------------------------


def checked_claims(text: str, ledger: Ledger, provider: str) -> str:
    """`text`, unless it states stock this reply did not look up (then LLMError: the offline engine
    answers). The prompt asks the model to look first; this makes sure of it."""
    problem = stock_claims.unsupported(
        text,
        looked_up=ledger.stock_looked_up(),
        figures=ledger.available_figures(),
        looked_up_sizes=ledger.looked_up_sizes(),
    )
    if problem:
        logger.warning("LLM reply refused: %s", problem)
        raise LLMError(f"{provider}: reply refused ({problem})", permanent=True)
    return text
