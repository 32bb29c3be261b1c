"""Offline reply brain for inbound customer SMS/WhatsApp messages.

`decide()` turns one message into a Decision (language, intent, action, reply text,
needs_attention); `decide_turn()` does it for a turn (several messages, some without
text). Pure Python: no Django, database or network access.
"""

from .engine import Decision, ShopInfo, decide
from .intents import INTENTS, Action
from .language import SUPPORTED_LANGUAGES, detect_language
from .turns import decide_turn

__all__ = [
    "INTENTS",
    "SUPPORTED_LANGUAGES",
    "Action",
    "Decision",
    "ShopInfo",
    "decide",
    "decide_turn",
    "detect_language",
]
