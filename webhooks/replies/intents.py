"""Intent and action classification for inbound customer messages.

Patterns run on an accent-free, lower-case copy of the text and cover every supported language
at once: customers mix languages, skip accents and write SMS shorthand, so we never make the
intent depend on the detected language. Checks run from the most consequential to the least:
opt-in/opt-out (legal), card details (never answer them), escalation (a person must act), then
shop questions. The patterns of the questions a shop's facts answer (delivery, payment, services,
returns, parking, address) live in facts.py, beside the answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .escalation import escalation_reason
from .facts import DELIVERY_TIME_QUESTION, FACT_QUESTIONS
from .language import strip_accents
from .when import asked_when

# Only the first part of a long message is classified: enough to find the request, and it keeps
# the regex work bounded for pasted walls of text.
MAX_CLASSIFIED_CHARS = 2000


class Action(StrEnum):
    REPLY = "reply"
    ESCALATE = "escalate"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    NONE = "none"


@dataclass(frozen=True)
class Classification:
    intent: str
    action: Action
    # Why we escalate (person, callback, complaint, refund, anger, card_details): picks the reply.
    reason: str = ""


INTENTS = (
    "greeting",
    "opening_hours",
    "address",
    "availability",
    "price",
    "order_status",
    "hold",
    "returns",
    "gift_card",
    "delivery",
    "payment",
    "services",
    "parking",
    "thanks",
    "escalate",
    "opt_out",
    "opt_in",
    "card_details",
    "other",
)

# What the inbound masking leaves of a card number or an IBAN ("4970 •••• •••• 7890"). Checked on the
# raw text: the bullets are not letters, so nothing that works on words would see them.
CARD_MASK = "\u2022" * 4

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalize(text: str) -> str:
    """Accent-free, lower-case, single-spaced text without control characters."""
    text = _CONTROL_RE.sub(" ", text[:MAX_CLASSIFIED_CHARS]).replace("’", "'").replace("`", "'")
    return " ".join(strip_accents(text).split())


def tokens(normalized: str) -> list[str]:
    return _TOKEN_RE.findall(normalized)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")")


# --- Opt-out / opt-in keywords --------------------------------------------------------------
# A keyword only counts when the message is essentially the keyword: "STOP", "stop sms svp",
# "STOP ALL". "je ne peux pas stop la commande" must not unsubscribe anyone.
_OPT_OUT_WORDS = _wordset(
    "stop stopp stopall arret arrete arretez unsubscribe cancel end quit optout baja alto"
    " desinscribir desuscribir annulla disiscrivi disiscrivimi abmelden abbestellen desabonner"
    " desinscrire desinscription desabonnement"
)
_OPT_IN_WORDS = _wordset("start unstop allumer restart resume demarrer")
# Words that may surround a keyword without turning the message into a sentence.
_KEYWORD_FILLER = _wordset(
    "sms msg msgs message messages pub pubs publicite promo promos all tout tous please pls plz"
    " svp stp merci thanks thank you por favor gracias bitte danke grazie me moi now maintenant"
    " whatsapp mail mails au to a de la les now out opt"
)
_MAX_KEYWORD_MESSAGE_TOKENS = 4

# Unambiguous sentences asking to stop messages, in any language.
_OPT_OUT_PHRASES = _rx(
    r"ne (?:veux|souhaite|desire|voudrais) plus (?:recevoir|etre contacte|de (?:sms|messages))",
    r"(?:arretez|arrete|cessez|stoppez) (?:de m'envoyer|de m'ecrire|vos (?:sms|messages)"
    r"|les (?:sms|messages))",
    r"desabonnez",
    r"desinscri(?:vez|re|ption)",
    r"retirez[- ]moi de",
    r"plus (?:de|d') ?(?:sms|messages|pubs?)\b",
    r"stop (?:texting|messaging|sending|contacting|the texts|the messages)",
    r"unsubscribe",
    r"remove me from",
    r"(?:don'?t|do not) (?:text|message|contact|sms) me",
    r"no more (?:texts|messages|sms)",
    r"opt[ -]?me out",
    r"no (?:quiero|deseo) recibir",
    r"dar(?:me)? de baja",
    r"no me (?:envien|manden|envieis|mandeis|escriban|escribais) mas",
    r"dejen de (?:enviar|mandar|escribir)",
    r"non (?:voglio|desidero) piu ricevere",
    r"cancellatemi",
    r"disiscriv",
    r"non (?:mandatemi|inviatemi|scrivetemi) piu",
    r"smettete(?:la)? di (?:inviar|mandar|scriver)",
    r"keine (?:nachrichten|sms|werbung|mails?|e-mails?) mehr",
    r"abmelden",
    r"abbestellen",
    r"austragen",
    r"nicht mehr (?:kontaktieren|schreiben|anschreiben)",
    r"nao (?:quero|desejo) (?:mais )?receber",
)


def _is_keyword_message(words: list[str], keywords: frozenset[str]) -> bool:
    meaningful = [w for w in words if not w.isdigit()]
    if not meaningful or len(meaningful) > _MAX_KEYWORD_MESSAGE_TOKENS:
        return False
    if not any(w in keywords for w in meaningful):
        return False
    return all(w in keywords or w in _KEYWORD_FILLER for w in meaningful)


def is_opt_out(normalized: str, words: list[str]) -> bool:
    return _is_keyword_message(words, _OPT_OUT_WORDS) or bool(_OPT_OUT_PHRASES.search(normalized))


def is_opt_in(words: list[str]) -> bool:
    return _is_keyword_message(words, _OPT_IN_WORDS)


# --- Shop questions, in priority order -------------------------------------------------------
_QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("delivery", DELIVERY_TIME_QUESTION),
    (
        "order_status",
        _rx(
            r"(?:ma|mon|la|une|votre) commande\b",
            r"commande (?:en ligne|passee|numero|n)",
            r"colis",
            r"suivi",
            r"(?:my|the|an) order\b",
            r"order (?:number|status|no)",
            r"tracking",
            r"parcel",
            r"package",
            r"(?:hasn'?t|has not|not yet|never) arrived",
            r"(?:mi|el|un) pedido",
            r"paquete",
            r"seguimiento",
            r"no (?:me )?ha llegado",
            r"(?:mio|il|l') ?ordine",
            r"pacco",
            r"non e (?:ancora )?arrivat",
            r"bestellung",
            r"paket",
            r"sendung",
            r"nicht angekommen",
            r"encomenda",
        ),
    ),
    ("returns", FACT_QUESTIONS["returns"]),
    (
        "gift_card",
        _rx(
            r"cartes? (?:cadeaux?|kdo)",
            r"bons? (?:d'achat|cadeaux?)",
            r"cheques? cadeaux?",
            r"gift ?(?:cards?|vouchers?|certificates?)",
            r"vouchers?",
            r"tarjetas? (?:de )?regalo",
            r"(?:cheque|vale)s? (?:de )?regalo",
            r"buon[oi] regalo",
            r"carta regalo",
            r"gift card",
            r"gutschein",
            r"vale[- ]presente",
            r"cartao presente",
        ),
    ),
    (
        "hold",
        _rx(
            r"(?:mettre|mettez|garder|gardez|mis|mise) (?:[\w']+ ){0,4}(?:de cote|a mon nom)",
            r"(?:me|m'en) (?:garder|reserver)",
            r"garder (?:le|la|les|ce|cette|ces)",
            r"reserver",
            r"put (?:it |them |\w+ )?aside",
            r"hold",
            r"keep (?:it|them|the|one) ",
            r"reserve",
            r"reservar",
            r"guardar",
            r"apartar",
            r"(?:tenere|mettere|tenermi|tenetemi|mettermi|mettetemi) (?:\w+ ){0,3}da parte",
            r"prenotare",
            r"riservare",
            r"zurucklegen",
            r"zuruckgelegt",
            r"reservieren",
        ),
    ),
    (
        # The shop's own stock deliveries ("vous avez reçu la livraison ?") are a stock question.
        "availability",
        _rx(
            r"(?:recu|eu|attendez) (?:la |une |de |des |votre |vos )?(?:nouvelles? )?livraisons?",
            r"livraisons? (?:des|de la|du) (?:nouveaute|nouvelle collection|nouveau)",
            r"new stock",
            r"(?:got|had|received) (?:a |the |any |your )?(?:new )?deliver(?:y|ies)\b(?! address)",
        ),
    ),
    # "les retouches se paient ?" asks about the service: services before payment.
    ("services", FACT_QUESTIONS["services"]),
    ("payment", FACT_QUESTIONS["payment"]),
    ("parking", FACT_QUESTIONS["parking"]),
    ("delivery", FACT_QUESTIONS["delivery"]),
    (
        "availability",
        _rx(
            r"taille",
            r"pointure",
            r"en (?:\d{2}|xs|m|xl|xxl)\b",
            r"stock",
            r"dispo",
            r"il (?:vous )?(?:en )?reste",
            r"existe",
            r"au[- ]dessus",
            r"en dessous",
            r"nouvelle collection",
            r"size",
            r"in (?:a )?(?:size )?(?:\d{1,2}|xs|small|medium|large|xl)\b",
            r"available",
            r"any left",
            r"still (?:there|available)",
            r"talla",
            r"hay stock",
            r"disponib",
            r"taglia",
            r"taglie",
            r"grosse",
            r"noch da",
            r"vorratig",
            r"verfugbar",
            r"tamanho",
        ),
    ),
    (
        "price",
        _rx(
            r"prix",
            r"combien",
            r"coute",
            r"tarif",
            r"soldes?\b",
            r"promo",
            r"price",
            r"how much",
            r"how expensive",
            r"costs?\b",
            r"on sale",
            r"precio",
            r"cuanto (?:cuesta|vale|valen|es|sale)",
            r"cuesta",
            r"rebaja",
            r"prezz",
            r"quanto (?:costa|costano|viene|vengono)",
            r"costa(?:no)?\b",
            r"saldi",
            r"scont",
            r"preis",
            r"kostet",
            r"kosten",
            r"wie ?viel(?! uhr)",
            r"wie teuer",
            r"reduziert",
            r"rabatt",
            r"preco",
            r"quanto custa",
        ),
    ),
    (
        "opening_hours",
        _rx(
            r"horaire",
            r"heures? d'ouverture",
            r"ouvr(?:ez|e|ent|ira|irez)\b",
            r"ouverte?s?\b",
            r"ferm(?:ez|e|ee|ees|es|ent|eture|erez)\b",
            r"jusqu'a (?:quelle heure|quand)",
            r"(?:until|till|til) when",
            r"how late",
            r"hasta cuando",
            r"fino a (?:che ora|quando)",
            r"ate (?:que horas|quando)",
            r"bis wann",
            # "Am Samstag zu?", "habt ihr morgen zu": zu alone at the end is "closed".
            r"(?:habt|haben|seid|sind|ist) (?:ihr |sie )?(?:\w+ ){0,3}zu\s*[?!.]*$",
            r"\w+ zu\s*\?",
            r"a quelle heure",
            r"quelle heure",
            r"open",
            r"clos(?:e|es|ed|ing)\b",
            r"hours",
            r"what time",
            r"horario",
            r"abr(?:en|is|e|ir)\b",
            r"abiert[oa]s?",
            r"cierr(?:an|a|ais)\b",
            r"cerrad[oa]",
            r"a que hora",
            r"(?:a |hasta )?q hora",
            r"hasta que hora",
            r"cerr(?:ais|areis)\b",
            r"pausa (?:pranzo|de mediodia|para comer)",
            r"orario continuato",
            r"pause (?:le midi|de midi|dejeuner|du midi)",
            r"non[- ]stop\b",
            r"until what time",
            r"orari",
            r"apert[oie]\b",
            r"apr(?:ite|e|ono)\b",
            r"chiud(?:ete|e|ono)\b",
            r"chius[oi]\b",
            r"a che ora",
            r"o?e?ffnungszeit",
            r"mittagspause",
            r"bis wie ?viel uhr",
            r"wie lange (?:haben|habt|hat|ist|sind)\b.{0,30}\b(?:auf|offen)\b",
            r"geoffnet",
            r"offen\b",
            r"geschlossen",
            r"wann (?:habt|haben|hat|offnet|offnen|schliesst|schliessen|macht|machen)",
            r"aberta?\b",
            r"abrem",
        ),
    ),
    ("address", FACT_QUESTIONS["address"]),
    (
        # Generic "do you have ...?" only means stock when nothing more specific matched.
        "availability",
        _rx(
            r"(?:vous avez|vs avez|avez[- ]vous|vous auriez|tu as|t'as|vous l'avez) "
            r"(?:encore|toujours|le|la|les|ce|cette|ces|des|du|recu|cet)\b",
            r"do you (?:still )?(?:have|got|sell|carry)",
            r"have you got",
            r"teneis",
            r"tienen",
            r"quedan?\b",
            r"avete",
            r"c'e (?:la|il|lo|ancora|in)",
            r"haben sie (?:den|die|das|noch|diese|dieses|diesen)",
            r"habt ihr",
            r"gibt es",
        ),
    ),
)

_GREETING_WORDS = _wordset(
    "bonjour bonsoir bjr bsr slt salut coucou cc hello hi hey hiya morning evening afternoon good"
    " hola buenas buenos buen dias tardes noches ciao buongiorno buonasera salve hallo guten tag"
    " morgen abend moin servus ola bom boa dia tarde noite madame monsieur mme mr mrs ms"
    " team equipe ca va comment allez vous how are you"
)
_THANKS_WORDS = _wordset(
    "merci mrc mci thanks thank thx ty cheers gracias grazie danke dankeschon obrigado obrigada obg dank"
)
# Acknowledgements that need no answer: replying to "ok" or a thumbs-up only adds noise.
_ACK_WORDS = _wordset(
    "ok okay oki okey kk k d'accord dac daccord parfait super top nickel cool great perfect"
    " vale perfecto genial va bene perfetto alles klar gut prima perfeito"
)
_SMALL_TALK_FILLER = _wordset(
    "beaucoup bcp bien a vous toi you so much very muchas mil mille molte tante vielen lieben"
    " dank tout the de et and y e und also aussi bonne journee soiree day samedi demain bientot"
    " plus tard later soon hasta pronto presto bis bald luego domani manana morgen u x xx xxx"
    " lundi mardi mercredi jeudi vendredi samedi dimanche monday tuesday wednesday thursday friday"
    " saturday sunday lunes martes miercoles jueves viernes sabado domingo lunedi martedi"
    " mercoledi giovedi venerdi sabato domenica montag dienstag mittwoch donnerstag freitag"
    " samstag sonntag"
)


def _residue(words: list[str], *vocabularies: frozenset[str], first_name: str = "") -> list[str]:
    """Words left once greetings/thanks/filler and the customer's own name are removed."""
    known = frozenset().union(*vocabularies)
    return [w for w in words if w not in known and w != first_name and not w.isdigit()]


# "Je peux passer vendredi vers 18h30 ?", "can I come by on Tuesday?", "ob ich morgen vorbeikommen
# kann": coming on a day asks whether the shop is open then, unless the visit is for an errand a person
# must prepare (an order to collect, an appointment), which stays with a person.
_VISIT_RE = _rx(
    r"passer\b",
    r"venir\b",
    r"faire un tour",
    r"trop tard",
    r"come (?:by|in|over|round|around|to the shop|to the store)",
    r"(?:drop|pop|stop|swing) (?:by|in|over)",
    r"too late",
    r"pasar(?:me|nos)?\b",
    r"acercarme",
    r"demasiado tarde",
    r"passare\b",
    r"fare un salto",
    r"troppo tardi",
    r"vorbei(?:kommen|schauen|gehen)?\b",
    r"zu spat",
    r"passar\b",
    r"tarde demais",
)
_ERRAND_RE = _rx(
    r"command",
    r"order",
    r"pedido",
    r"ordine",
    r"bestell",
    r"encomenda",
    r"recup",
    r"retir",
    r"pick(?:ing)? up",
    r"collect",
    r"recoger",
    r"ritir",
    r"abhol",
    r"levantar",
    r"rendez[- ]vous",
    r"rdv\b",
    r"appointment",
    r"cita\b",
    r"appuntamento",
    r"termin\b",
)
# Any fixed moment serves: only whether the message names a day (or "now") matters here.
_SOME_NOW = datetime(2026, 1, 5, 12, 0)


def visit_on_a_day(normalized: str) -> bool:
    if not _VISIT_RE.search(normalized) or _ERRAND_RE.search(normalized):
        return False
    return asked_when(normalized, _SOME_NOW) is not None


def question_intent(normalized: str) -> str:
    return next(iter(question_intents(normalized)), "")


def question_intents(normalized: str) -> list[str]:
    """Every question the message asks, most specific first ("où êtes-vous ? on peut se garer ?")."""
    return [intent for intent, pattern in _QUESTION_PATTERNS if pattern.search(normalized)]


def small_talk_intent(words: list[str]) -> tuple[str, Action] | None:
    """greeting / thanks / acknowledgement when that is all the message says."""
    if not words:
        # Emoji, punctuation or nothing at all: nothing to answer.
        return "thanks", Action.NONE
    leftover = _residue(words, _GREETING_WORDS, _THANKS_WORDS, _ACK_WORDS, _SMALL_TALK_FILLER)
    if len(leftover) > 1:
        return None
    if any(w in _THANKS_WORDS for w in words):
        return "thanks", Action.REPLY
    if any(w in _GREETING_WORDS for w in words):
        return "greeting", Action.REPLY
    if not leftover:
        return "thanks", Action.NONE
    return None


def classify(text: str) -> Classification:
    """Intent and action for one inbound message. Never raises on odd input."""
    text = text or ""
    normalized = normalize(text)
    if not normalized:
        # Empty body (e.g. a media-only message): nothing we could answer honestly.
        return Classification("other", Action.NONE)
    words = tokens(normalized)
    if is_opt_in(words):
        return Classification("opt_in", Action.OPT_IN)
    if is_opt_out(normalized, words):
        return Classification("opt_out", Action.OPT_OUT)
    if CARD_MASK in text:
        return Classification("card_details", Action.ESCALATE, "card_details")
    reason = escalation_reason(normalized)
    if reason:
        return Classification("escalate", Action.ESCALATE, reason)
    intent = question_intent(normalized)
    if intent:
        return Classification(intent, Action.REPLY)
    if visit_on_a_day(normalized):
        return Classification("opening_hours", Action.REPLY)
    small_talk = small_talk_intent(words)
    if small_talk:
        return Classification(small_talk[0], small_talk[1])
    return Classification("other", Action.REPLY)
