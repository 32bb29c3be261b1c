"""What a shop tells its customers once, and the questions it answers.

Owners fill in delivery, payment, services, returns and parking facts (and the address) in the shop
settings; customers ask about them in SMS-speak, without accents and in several languages. This module
holds both halves: the patterns that recognise those questions (used by intents.classify, on the
normalised text) and `fact_answer`, which wraps the owner's words in a short sentence of the reply
language. Pure: no Django, database or network.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from .templates import FACT_TEMPLATES, FALLBACK_LANGUAGE

if TYPE_CHECKING:
    from .engine import ShopInfo

FACT_KEYS: Final = ("delivery", "payment", "services", "returns", "parking")
# Intents fact_answer can answer: the facts plus the address (with its map link).
ANSWERED_INTENTS: Final = (*FACT_KEYS, "address")


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")")


# --- Questions (patterns run on intents.normalize() text: lower case, no accents) -------------
# "la robe sera de retour ?" is about stock, not a return: lookbehinds drop "<be> de retour".
_NOT_A_RETURN = "".join(
    f"(?<!{verb} de )" for verb in ("sera", "seront", "serai", "serez", "est", "sont", "etre", "revient")
)

FACT_QUESTIONS: Final[dict[str, re.Pattern[str]]] = {
    "returns": _rx(
        _NOT_A_RETURN + r"retour",
        r"echang",
        r"echanj",
        r"changer (?:de|la|le|les|un|une|contre|pour)",
        r"(?:peut|peux|puis|possible de|pouvez|pourrais) (?:on |je )?(?:la |le |les |l')?rendre\b",
        r"return",
        r"exchange",
        r"swap",
        r"send (?:it|them|this|the \w+) back",
        r"take (?:it|them|this|the \w+) back",
        r"(?:repren|reprend)\w* (?:les |mes |un |une |l'|la |le )?(?:articles?|vetements?|achats?)",
        r"devolucion",
        r"devolver",
        r"cambiar",
        r"cambio",
        r"reso\b",
        r"resi\b",
        r"restituire",
        r"umtausch",
        r"tauschen\b",
        r"ruckgabe",
        r"rucksend",
        r"zuruckgeben",
        r"zurucksenden",
        r"zuruckschicken",
        r"troca",
        r"trocar",
        r"devolucao",
    ),
    "payment": _rx(
        # "j'ai paye" tells of a payment made (an order matter), not a question about how to pay.
        r"(?<!ai )(?<!avons )(?<!avez )pa[iy](?:er|ez|ons|ement|ment|e|es)\b",
        r"pay(?:ing|ment|ments)?\b(?! (?:you |us )?a visit)",
        r"moyens? de paiement",
        r"carte (?:bleue|bancaire|de credit|visa|amex)",
        r"(?:par|en|la|les) cb\b",
        r"(?:prenez|acceptez|accepte|acceptes|prend|prennent|prends) (?:la |les |le )?"
        r"(?:cartes?|cb|cheques?|especes|liquide|amex|visa)\b",
        r"cheques?\b",
        r"especes\b",
        r"en liquide",
        r"en plusieurs (?:fois|mensualites)",
        r"mensualit",
        r"(?:en|in|a|em) (?:[2-9]|deux|trois|quatre|two|three|four|dos|tres|cuatro|tre|quattro|drei|vier)"
        r" ?(?:x|fois|instal+ments?|payments?|plazos|pagos|veces|rate|raten|prestacoes|vezes)\b",
        r"[2-9] ?(?:x|fois) sans frais",
        r"(?:credit|debit|bank) cards?",
        r"cards? payments?",
        r"(?:by|with) card\b",
        r"(?:take|accept)s? (?:credit |debit )?cards?",
        r"cash\b",
        r"contactless",
        r"sans contact",
        r"instal+ments?",
        r"buy now,? pay later",
        r"klarna",
        r"alma\b",
        r"oney\b",
        r"scalapay",
        r"clearpay",
        r"afterpay",
        r"paypal",
        r"apple ?pay",
        r"google ?pay",
        r"pag(?:o|ar|ais|an|amento|amenti|are)\b",
        r"a plazos",
        r"(?:con|acept\w*|admit\w*) tarjeta",
        r"efectivo\b",
        r"bizum",
        r"a rate\b(?! of)",
        r"rateizz",
        r"cart[ae] di credito",
        r"bancomat",
        r"contanti",
        r"satispay",
        r"(?:be)?zahl(?:en|ung|e|t)\b",
        r"ratenzahl",
        r"kartenzahl",
        r"kreditkarte",
        r"ec[- ]?karte",
        r"mit karte",
        r"bargeld",
        r"prestac(?:oes|ao)",
        r"cartao (?:de credito|de debito|multibanco)",
        r"multibanco",
        r"mb ?way",
        r"em dinheiro",
    ),
    "delivery": _rx(
        # "merci pour la livraison" thanks; it asks nothing.
        r"(?<!merci pour la )(?<!merci pour votre )livr[aeo]\w*",
        r"expedi\w*",
        r"frais de port",
        r"fdp\b",
        r"frais d'envoi",
        r"envoy(?:er|ez) (?:a|en|par|au|dans)",
        r"a l'(?:etranger|international)",
        r"combien de (?:temps|jours) pour (?:recevoir|l'avoir|etre livre)",
        r"(?:recoi[st]?|recevr\w*|l'aurai|les aurai) quand",
        r"quand (?:est-ce que )?(?:je|on) (?:le |la |les )?(?:recoi|recevr)",
        r"deliver",
        r"ship",
        r"postage",
        r"post (?:it|them|to|abroad)",
        r"how long (?:does|will|would) (?:it|delivery|shipping) take",
        r"envio",
        r"(?:enviar|enviais|envian|mandan|mandais) (?:a|al|fuera|por correo)\b",
        r"entrega",
        r"a domicilio",
        r"spedi",
        r"spedizion",
        r"consegn",
        r"liefer",
        r"versand",
        r"versenden",
        r"verschick",
        r"schicken sie",
        r"enviam (?:para|ao|a)\b",
        r"frete\b",
        r"(?:mandar|enviar)(?:me)?(?:lo|la|los|las)? a (?:casa|domicilio|mi casa)",
        r"me (?:lo|la|los|las) (?:podeis|pueden|puedes|podrian) (?:mandar|enviar)",
        r"send (?:it |them )?to (?:my|our) (?:home|house|address|place)",
        r"envoy(?:er|ez)(?:-le|-la|-les)? chez moi",
        r"in quanti giorni (?:arriva|arrivano|consegnate|spedite)",
        r"quanto (?:ci )?(?:mette|mettono|impiega|ci vuole) (?:ad|a) arrivare",
        r"cuantos dias (?:tarda|tardan|tardais)",
        r"how many days (?:does|will|would|to)",
        r"wie lange dauert (?:der versand|die lieferung|das paket)",
        r"nach hause (?:schicken|liefern|senden)",
        r"a casa mia",
    ),
    "services": _rx(
        r"retouch",
        r"ourlet",
        r"raccourcir",
        r"reprendre (?:la |le |les |l'|un |une )?(?:taille|pantalon|robe|jupe|ourlet|manches?)",
        r"couturiere",
        r"paquets?[- ]cadeaux?",
        r"(?:faites|faire|font) (?:les |des |un )?paquets?",
        r"papier cadeau",
        r"emballage cadeau",
        r"emball(?:er|ez|ee)\b",
        r"personal shop",
        r"relooking",
        r"conseil(?:lere?)? en image",
        r"stylist",
        r"sur[- ]mesure",
        r"alter(?:ation|ations|ed|ing)?\b",
        r"tailor",
        r"hem(?:s|med|ming)?\b",
        r"shorten",
        r"take (?:it|them|this|the \w+) in\b",
        r"gift[- ]?wrap",
        r"wrap(?:ped|ping)? (?:it|them|as a gift|for)",
        r"arreglo",
        r"arregl(?:ar|an|ais|amos)\b",
        r"(?:hacer|haceis|hacen|coger|meter)(?:le|les)? (?:el|los) bajos?",
        r"dobladillo",
        r"costurer[ao]",
        r"papel de regalo",
        r"envolver",
        r"envuelv",
        r"para regalo",
        r"asesor(?:a|amiento)? de imagen",
        r"riparazion",
        r"sartori",
        r"sarta\b",
        r"orl[oi]\b",
        r"accorciar",
        r"stringere",
        r"modifiche",
        r"confezion(?:e|i) regalo",
        r"pacchett(?:o|i) regalo",
        r"incartare",
        r"impacchett",
        r"anderung",
        r"(?:konnen|konnten|kann|konnt) (?:sie|ihr|man) (?:\w+ ){0,3}kurzen\b",
        r"kurzen (?:lassen|sie)\b",
        r"schneiderei",
        r"saum\b",
        r"geschenk ?verpack",
        r"als geschenk (?:ein)?verpack",
        r"einpacken",
        r"(?:packen|verpacken) (?:sie |ihr )?(?:\w+ ){0,2}als geschenk",
        r"stilberatung",
        r"ajustes?\b",
        r"ajustar(?:me|le)?\\b",
        r"kurzt (?:ihr|sie|man)\\b",
        r"arranjo",
        r"costureira",
        r"bainha",
        r"embrulh",
        r"papel de presente",
    ),
    "parking": _rx(
        r"parking",
        r"park(?:en|s)?\b",
        r"parkier",
        r"lasciare (?:la macchina|l'auto|la moto)",
        r"leave (?:the|my) car",
        r"laisser (?:la|ma) voiture",
        r"dejar el coche",
        r"car park",
        r"(?:se |me |nous |vous |on )garer\b",
        r"garer\b",
        r"stationn",
        r"metro\b",
        r"metropolitana",
        r"tram\b",
        r"(?:auto)?bus\b",
        r"tranvia",
        r"fermata",
        r"parada de",
        r"(?:in macchina|en voiture|by car|en coche|mit dem auto|de carro)\b",
        r"rer\b",
        r"gare\b",
        r"transports? (?:en commun|publics?)",
        r"fauteuil",
        r"pmr\b",
        r"poussette",
        r"accessib",
        r"ascenseur",
        r"(?:the |by |by the )tube\b",
        r"subway",
        r"underground",
        r"(?:tube|train|metro|subway|bus) (?:station|stop)",
        r"public transport",
        r"wheelchair",
        r"step[- ]free",
        r"disabled access",
        r"aparca",
        r"estacion(?:ar|amiento)",
        r"silla de ruedas",
        r"transporte publico",
        r"parcheggi",
        r"carrozzina",
        r"sedia a rotelle",
        r"mezzi pubblici",
        r"parkplatz",
        r"parkhaus",
        r"tiefgarage",
        r"[us]-?bahn",
        r"strassenbahn",
        r"(?:tram|bus|u-?bahn|s-?bahn)?haltestelle",
        r"rollstuhl",
        r"barrierefrei",
        r"offentliche verkehrsmittel",
        r"estacionamento",
        r"cadeira de rodas",
    ),
    "address": _rx(
        r"adress",
        r"adres(?:e|s)?\b",
        r"adr\b",
        r"ou (?:etes|se trouve|est|sont|ce trouve)[- ](?:vous|la boutique|le magasin|votre)",
        r"ou (?:etes|ete|etez)[- ]?(?:vous|vs)",
        r"(?:vous|vs|v) (?:etes|ete|etez) (?:ou|situes?|situees?)\b",
        r"vous vous trouvez (?:ou|situe)",
        r"(?:la boutique|le magasin|le shop) (?:est|se trouve|c'est) ou",
        r"ou (?:se situe|ce situe|est situee?|se trouve)",
        r"c'est ou\b",
        r"situee?",
        r"itineraire",
        r"comment (?:venir|aller chez vous|vous trouver|on vient|je viens|y aller)",
        r"address",
        r"(?:what|which) street",
        r"quelle rue",
        r"located",
        r"location",
        r"where (?:exactly )?(?:is|are|r) (?:the|your|you|u)\b",
        r"post ?code",
        r"zip ?code",
        r"code postal",
        r"codigo postal",
        r"postleitzahl",
        r"(?:en )?que calle",
        r"in che via",
        r"in welcher strasse",
        r"em que rua",
        r"where'?s (?:the|your)",
        r"wo genau",
        r"where exactly",
        r"ou exactement",
        r"donde exactamente",
        r"dove esattamente",
        r"(?:quel|quelle) (?:arrondissement|quartier)",
        r"which (?:area|neighbou?rhood|district|part of town)",
        r"in welchem (?:viertel|stadtteil|bezirk)",
        r"(?:en )?que barrio",
        r"in che (?:zona|quartiere)",
        r"directions",
        r"how (?:do i|to|can i) (?:get|find)",
        r"direccion",
        r"(?:donde|dnd) (?:esta|estais|estan|queda|quedan|se encuentra|os encuentro)",
        r"como (?:llego|llegar)\b",
        r"ubicacion",
        r"ubicad[oa]s",
        r"indirizzo",
        r"dove (?:siete|si trova|e|sta|vi trovo|vi trovate)",
        r"dov'e il negozio",
        r"come (?:arrivo|arrivare|vi raggiungo|raggiungervi)",
        r"wo (?:ist|sind|seid|befindet|finde)",
        r"wie (?:komme|kommt|finde) (?:ich|man)",
        r"anfahrt",
        r"standort",
        r"endereco",
        r"(?:a|vossa|sua) morada",
        r"onde (?:fica|e|esta|ficam)",
        r"como (?:chego|chegar)\b",
    ),
}


# "how long does a parcel take": the indefinite article makes it a delivery question, not an order's
# (intents checks this before order_status, which "colis", "parcel", "Paket", "commande" otherwise mean).
DELIVERY_TIME_QUESTION: Final = _rx(
    r"combien de temps (?:met|prend|faut-il pour) un colis",
    r"how long (?:does|will|would) (?:a|the) (?:parcel|package) take",
    r"wie lange (?:braucht|dauert) (?:ein|das) paket",
    r"cuanto (?:tarda|tardan) (?:un|el) paquete",
    r"quanto (?:ci mette|impiega) (?:un|il) pacco",
    r"quanto tempo demora (?:uma|a) encomenda",
    # An order not placed yet ("if I order today, when...") is about delivery times too.
    r"(?:si je commande|se ordino|if i order|si (?:lo )?pido|wenn ich (?:\w+ )?bestelle"
    r"|se (?:eu )?encomendar)\b.{0,50}\b(?:quand|quando|when|cuando|wann)\b",
)


# --- Answers ----------------------------------------------------------------------------------
_END_PUNCTUATION = string.whitespace + ".!?;:,…"
_LINE_END_PUNCTUATION = tuple(".!?;:,…")
_SPACE_BEFORE_DOT_RE = re.compile(r"\s+([.,])")
_REPEATED_DOTS_RE = re.compile(r"\.(?:\s*\.)+")
_ENDS_WITH_URL_RE = re.compile(r"(?:https?://|www\.)\S+$")


def clean_owner_text(text: str, *, sentences: bool = True) -> str:
    """The owner's words on one line, without the punctuation that would clash with ours.

    Lines become sentences (or, with `sentences=False`, parts of one line joined by commas, as for an
    address); a space before "." or ",", doubled dots and the trailing punctuation go, since the
    caller closes the sentence itself. The space before ":", "?" and "!" stays: French typography
    wants it.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if sentences:
        joined = " ".join(line if line.endswith(_LINE_END_PUNCTUATION) else f"{line}." for line in lines)
    else:
        joined = ", ".join(line.rstrip(",; ") for line in lines)
    joined = " ".join(joined.split())
    joined = _REPEATED_DOTS_RE.sub(".", _SPACE_BEFORE_DOT_RE.sub(r"\1", joined))
    return joined.strip(_END_PUNCTUATION)


def _close(text: str) -> str:
    """End a sentence with a full stop, except after a link (a dot would stick to it)."""
    return text if _ENDS_WITH_URL_RE.search(text) else f"{text}."


def _phrases(lang: str) -> dict[str, str]:
    return FACT_TEMPLATES.get(lang, FACT_TEMPLATES[FALLBACK_LANGUAGE])


def fact_text(shop: ShopInfo, key: str, lang: str) -> tuple[str, str]:
    """The owner's text for fact `key`: their `lang` version if given, else the default one.

    Returns (text, language of that text); ("", "") when the shop left the fact empty.
    """
    versions = shop.facts.get(key)
    if not isinstance(versions, Mapping):
        return "", ""
    for version in (lang, "", shop.language):
        text = versions.get(version)
        if isinstance(text, str) and text.strip():
            return text.strip(), version or shop.language
    return "", ""


def _language_note(phrases: dict[str, str], text_lang: str, lang: str) -> str:
    """ " (in French)" when the owner only wrote the fact in another language than the reply."""
    names = phrases["language_names"].split()
    if text_lang == lang or text_lang not in FACT_TEMPLATES:
        return ""
    return " " + phrases["in_language"].format(language=names[tuple(FACT_TEMPLATES).index(text_lang)])


def _fact_body(key: str, lang: str, shop: ShopInfo) -> str | None:
    text, text_lang = fact_text(shop, key, lang)
    fact = clean_owner_text(text)
    if not fact:
        return None
    phrases = _phrases(lang)
    lead = phrases[key] + _language_note(phrases, text_lang, lang)
    return _close(f"{lead}{phrases['separator']}{fact}")


def _address_body(lang: str, shop: ShopInfo) -> str | None:
    phrases = _phrases(lang)
    address = clean_owner_text(shop.address, sentences=False)
    map_url = shop.map_url.strip()
    if not address:
        return phrases["map_only"].format(map_url=map_url) if map_url else None
    parts = [phrases["address"].format(address=address), phrases["see_you"]]
    # The link last, on its own line: a word or a full stop after it would stick to it in some phones'
    # link detection, and it is what the customer taps.
    return " ".join(parts) + (f"\n{phrases['map'].format(map_url=map_url)}" if map_url else "")


def fact_answer(intent: str, lang: str, shop: ShopInfo) -> str | None:
    """Reply body (no greeting, no signature) answering `intent` from what the shop filled in.

    None when the shop left that fact empty or the intent is not a fact: a person answers instead.
    """
    if intent == "address":
        return _address_body(lang, shop)
    if intent in FACT_KEYS:
        return _fact_body(intent, lang, shop)
    return None
