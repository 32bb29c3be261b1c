"""Hygiene of what people and shops are called, before it is stored.

Names are shown in lists, on pages, in exports and in the admin. Characters that reorder or hide text
make a name lie about itself there: a right-to-left override turns `\u202eenilA` into "Aline" on screen,
and a zero-width space makes "Ju\u200blie" look like "Julie" while search and duplicate checks see two
different people. Message bodies are not touched: they are shown escaped, exactly as sent.

Pure Python, no Django: `webhooks.names` uses it too.
"""

import unicodedata

# Zero-width non-joiner and joiner (U+200C, U+200D) are part of the spelling in some scripts: Persian
# writes "علی‌رضا" with a ZWNJ, and the Indic scripts choose a conjunct's form with them. They are kept
# between two characters of such a script, and dropped anywhere else (between Latin letters they only
# hide a difference; in emoji sequences they merely glue pictures, which a name can do without).
_JOINERS = frozenset("\u200c\u200d")
_JOINING_SCRIPTS = (
    (0x0600, 0x06FF),  # Arabic (Persian, Urdu, Kurdish…)
    (0x0700, 0x074F),  # Syriac
    (0x0750, 0x077F),  # Arabic supplement
    (0x0870, 0x08FF),  # Arabic extended
    (0x0900, 0x0DFF),  # Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada,
    #                    Malayalam, Sinhala
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1800, 0x18AF),  # Mongolian
    (0xA8E0, 0xA8FF),  # Devanagari extended
    (0xFB50, 0xFDFF),  # Arabic presentation forms A
    (0xFE70, 0xFEFC),  # Arabic presentation forms B (U+FEFF, the BOM, is not a letter)
)


def _in_joining_script(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _JOINING_SCRIPTS)


def _keeps_joiner(text: str, i: int) -> bool:
    before, after = text[i - 1 : i], text[i + 1 : i + 2]
    return bool(before and after) and _in_joining_script(before) and _in_joining_script(after)


def strip_invisible(text: str) -> str:
    """`text` without format characters (Unicode category Cf), except the joiners kept above.

    That is: the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks
    U+200E, U+200F and U+061C, zero-width space U+200B, word joiner U+2060, U+FEFF, the soft hyphen,
    invisible operators, tag characters… Line breaks and every visible character stay.
    """
    return "".join(
        ch
        for i, ch in enumerate(text)
        if unicodedata.category(ch) != "Cf" or (ch in _JOINERS and _keeps_joiner(text, i))
    )


def clean_name(value) -> str:
    """A name without invisible formatting characters, control characters made spaces, single spaces,
    trimmed."""
    if not value:
        return ""
    text = strip_invisible(str(value))
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).split())
