"""Offline reply brain for inbound customer SMS/WhatsApp messages.

`decide()` turns one message into a Decision (language, intent, action, reply text,
needs_attention). Pure Python: no Django, database or network access.
"""

from .engine import Decision, ShopInfo, decide
from .intents import INTENTS, Action
from .language import SUPPORTED_LANGUAGES, detect_language

__all__ = ["INTENTS", "SUPPORTED_LANGUAGES", "Action", "Decision", "ShopInfo", "decide", "detect_language"]
