"""Offline language detection tuned for short customer messages (SMS / WhatsApp).

Statistical detectors (langdetect, langid, lingua) are trained on long texts and guess wildly on
"Merci !", "Ciao" or "bjr svp"; they also weigh 3 MB to 100 MB. Customers of a boutique write
short messages with a small, predictable vocabulary, so a scored lexicon of function words,
greetings, shop vocabulary and SMS abbreviations, plus a few spelling cues (¿, ß, ñ, "c'est"),
is both more accurate here and tiny. When the evidence is weak or tied we return the caller's
default (the shop's language) rather than guess.
"""

from __future__ import annotations

import re
import unicodedata

SUPPORTED_LANGUAGES = ("fr", "en", "es", "it", "de", "pt")


def _weighted(words: str, weight: int) -> dict[str, int]:
    return dict.fromkeys(words.split(), weight)


# Word -> weight per language. 3 = nearly unambiguous (greetings, thanks, pronouns peculiar to
# one language), 2 = typical, 1 = shared with a neighbour language but still informative.
# Keys are lower-case and accent-free because customers often type without accents.
_LEXICON: dict[str, dict[str, int]] = {
    "fr": {
        **_weighted(
            "bonjour bonsoir bjr bsr slt coucou merci mrc mci svp stp vous vs nous je j jvoudrais"
            " jveux jpeux jsuis est etes sont avez avons suis voudrais voudrait pourriez pouvez"
            " peux peut quelle quel quels quelles combien pourquoi aujourd demain hier oui ouais"
            " d'accord dac daccord rappeler rappelez appelez boutique magasin taille tailles"
            " ouvert ouverte ouvrez ouvre fermez ferme fermee horaires heure heures commande"
            " colis livraison livrez rembourser remboursement remboursee echanger echange"
            " cadeau carte bleue robe manteau pull chemisier veste sac bottines chaussures jupe"
            " pantalon ceinture vitrine encore aussi avec pour dans sur mais tres beaucoup"
            " bien bonne journee soiree quoi qui cette ces mes mon ma ton ta votre vos leur"
            " il elle ils elles on moi toi ne pas plus jamais rien personne gerante gerant"
            " responsable adresse ou c'est qu'est n'est j'ai j'aimerais l'adresse aimerais"
            " voulez veux fait faites savoir recu recue nouvelle nouvelles collection"
            " samedi dimanche lundi mardi mercredi jeudi vendredi matin soir apres midi"
            " garder cote reserver mettre bises cordialement salut madame monsieur ya que non"
            " arret desabonner desinscrire"
            " retouches retouche ourlet ourlets emballage paquet especes paiement plusieurs fois garer"
            " stationnement arrondissement rembourse echanges livrez livrer envoyez frais port ferme"
            " fermes ouverts venir passer",
            2,
        ),
        **_weighted("bonjour bonsoir bjr coucou merci svp stp vous etes avez c'est j'ai", 3),
        **_weighted("de la le les des du un une et a en au aux ce", 1),
    },
    "en": {
        **_weighted(
            "hello hi hey thanks thank thx ty you your u ur r the is are do does did have has"
            " can could would will what whats what's when where which who how much many"
            " please pls plz i i'm im i'd i've it it's this that these those my me we our with"
            " for from of and or but not all don't dont can't cant isn't still any open opening"
            " close closing hours shop store address located size sizes available price cost"
            " order orders delivery deliver ship shipping return refund exchange gift voucher"
            " card call back person someone manager speak talk complaint today tomorrow"
            " tonight yes yeah sure okay great lovely cheers unsubscribe cancel unstop end quit"
            " morning afternoon evening"
            " monday tuesday wednesday thursday friday saturday sunday week weekend jeans dress"
            " jacket coat boots bag skirt scarf shoes hold keep until just want need like"
            " bought arrived waiting received new collection there here an at on"
            " cash accept take pay paying payment instalments installments car nearest near street"
            " postcode alterations alteration hem hemming wrap wrapping boxing eve new year's year"
            " usually open closed come by drop around leave",
            2,
        ),
        **_weighted("hello hi hey thanks thank thx the you your what where how please", 3),
        **_weighted("in to a no", 1),
    },
    "es": {
        **_weighted(
            "hola buenas buenos dias tardes noches gracias muchas muchos porfa favor usted"
            " ustedes vosotros tienen teneis tiene tengo hay esta estan estoy soy es son que"
            " q cual cuales cuando donde como cuanto cuanta cuesta cuestan vale valen abren"
            " abris abierto abierta cierran cerrado horario horarios tienda direccion talla"
            " tallas pedido envio envios envian hacen cambiar cambio devolucion devolver"
            " dinero tarjeta regalo llamar llamen llamada persona hablar encargado encargada"
            " queja reclamacion enfadado enfadada mal muy mas pero tambien todavia aun mi mis"
            " tu su sus el los las del al una unos unas y o con para por sin este esta ese"
            " esa hoy manana ayer si vale gracias falda vestido chaqueta zapatillas zapatos"
            " bolso pantalones camisa reservar guardar quiero quisiera puedo puede pueden"
            " podeis podria necesito llego lunes martes miercoles jueves viernes sabado"
            " domingo nadie nunca contesta estoy pagar se baja alto desinscribir desuscribir darme"
            " dnd dnde estais exactamente nochevieja nochebuena navidad cerrais cerrar antes abrir"
            " aparcar aparcamiento coche pagar plazos efectivo aceptan aceptais arreglo arreglos"
            " bajo envolver quedan queda tardan tarda cobran cobrais mandar casa envian envias",
            2,
        ),
        **_weighted("hola gracias tienen teneis cuanto cuesta quiero usted hay donde", 3),
        **_weighted("de la en a no", 1),
    },
    "it": {
        **_weighted(
            "ciao buongiorno buonasera salve grazie mille prego per favore cortesia siete"
            " avete abbiamo sono sei e' c'e ce che chi come quando dove dov'e quanto quanta"
            " quanti costa costano aperti aperto aperta chiudete chiuso orari orario negozio"
            " indirizzo taglia taglie ordine spedizione spedite spedire reso resi cambio"
            " rimborso buono buoni regalo richiamare richiamatemi chiamare chiamatemi"
            " parlare persona responsabile reclamo arrabbiato arrabbiata pessimo vergogna"
            " molto piu ma anche ancora il lo gli della delle degli nel nella con non mi ti"
            " ci vi mio mia miei suo sua oggi domani ieri si borsa gonna maglione vestito"
            " stivali cappotto giacca scarpe tenere parte vorrei voglio posso potete puo"
            " ricevere messaggi lunedi martedi mercoledi giovedi venerdi sabato domenica"
            " stasera mattina pomeriggio sbagliata difettoso arrivato pagare scusi annulla"
            " disiscrivi disiscrivimi"
            " accettate accettano contanti scusate scusa fate pausa pranzo solito aprite parcheggio"
            " macchina fermata orlo orli sistemare confezione pagamento rate natale santo stefano"
            " capodanno primo gennaio arriva spedite giorni quanti lasciare",
            2,
        ),
        **_weighted("ciao buongiorno grazie siete avete vorrei quanto costa negozio", 3),
        **_weighted("la le di a in una un e o per", 1),
    },
    "de": {
        **_weighted(
            "hallo guten tag morgen abend moin servus danke dankeschon vielen dank lieben gruss"
            " grusse bitte sie ihr ihnen"
            " euch eure euer ich du wir haben habt hat habe ist sind bin sein wann wo wie was"
            " welche welcher warum heute morgen gestern geoffnet offnungszeiten offen"
            " geschlossen laden geschaft adresse grosse grosse gibt es noch auch nicht kein"
            " keine der die das den dem des ein eine einen einem und oder aber mit fur von"
            " zu zum zur nach bei auf kostet kosten preis bestellung lieferung liefern"
            " versand umtauschen umtausch zuruck zurucklegen zuruckgeben ruckgabe geld"
            " gutschein gutscheine anrufen zuruckrufen rufen mitarbeiter sprechen chef"
            " beschwerde beschweren verargert sauer frechheit unverschamt kaputt mantel"
            " tasche hose schuhe bluse schal kleid jacke mochte mochten will konnen kann"
            " konnte wurde samstag sonntag montag dienstag mittwoch donnerstag freitag ja"
            " nein nachrichten mehr schicken senden mein meine meinen schon genau lautet"
            " bleibt abmelden abbestellen stopp"
            " geht oeffnungszeiten neujahr seid weihnachten weihnachtstag heiligabend silvester parken"
            " parkplatz parkhaus haltestelle strassenbahn nachste zahlen bezahlen bar raten"
            " ratenzahlung andern kurzen geschenkverpackung verpacken liefert versendet tage dauert"
            " vorbeikommen kommen genau",
            2,
        ),
        **_weighted("hallo danke bitte ich haben sie ist nicht und gibt geht nehmt", 3),
    },
    "pt": {
        **_weighted(
            "ola obrigado obrigada bom boa dia tarde noite voces voce vcs vc tem temos sao"
            " estao qual quando onde quanto custa loja horario endereco tamanho pedido"
            " entrega troca devolucao cartao presente ligar falar pessoa reclamacao nao"
            " sim muito mais mas tambem ainda meu minha hoje amanha obg",
            2,
        ),
        **_weighted("ola obrigado obrigada voces loja nao obg", 3),
    },
}

# Spelling cues that survive even when the words are unknown (names of products, typos).
_CHAR_CUES: tuple[tuple[str, str, int], ...] = (
    (r"[¿¡]", "es", 4),
    (r"ñ", "es", 3),
    (r"ß", "de", 4),
    (r"[äöü]", "de", 2),
    (r"[ãõ]", "pt", 4),
    (r"ç", "fr", 1),
    (r"[œ]", "fr", 3),
    (r"[êâîôû]", "fr", 1),
    (r"\b(?:qu|[cdjlmnst])['’][aeiouyhé]", "fr", 2),
    (r"\b(?:dov|c|cos|com|quest|quell)['’]", "it", 2),
    (r"\w(?:zione|zioni|etto|etta|ssimo|ssima)\b", "it", 2),
    (r"\w(?:cion|ción|ciones|dad|mos)\b", "es", 1),
    (r"\w(?:ung|ungen|keit|lich|chen)\b", "de", 2),
    (r"\w(?:ing|ly)\b", "en", 1),
    (r"\w(?:tion|ment|eux|euse)\b", "fr", 1),
    (r"\bsch\w", "de", 1),
)

# Below this score the text carries too little evidence and the caller's default wins.
_MIN_SCORE = 2

_WORD_RE = re.compile(r"[a-z]+(?:['’][a-z]+)?")


def strip_accents(text: str) -> str:
    """Lower-case and drop diacritics, so "Arrêt" and "arret" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def tokenize(text: str) -> list[str]:
    """Accent-free lower-case words; elided forms such as "c'est" are kept whole and split."""
    words: list[str] = []
    for match in _WORD_RE.finditer(strip_accents(text).replace("’", "'")):
        word = match.group()
        words.append(word)
        if "'" in word:
            words.extend(part for part in word.split("'") if part)
    return words


def language_scores(text: str) -> dict[str, int]:
    """Evidence score per supported language (word cues plus spelling cues)."""
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    for word in tokenize(text):
        for lang, lexicon in _LEXICON.items():
            scores[lang] += lexicon.get(word, 0)
    lowered = text.lower()
    for pattern, lang, weight in _CHAR_CUES:
        scores[lang] += weight * len(re.findall(pattern, lowered))
    return scores


def detect_language(text: str, default: str) -> str:
    """Best-supported language of `text`, or `default` when the evidence is weak or tied."""
    if not text or not text.strip():
        return default
    scores = language_scores(text[:2000])
    best = max(scores.values())
    if best < _MIN_SCORE:
        return default
    leaders = [lang for lang, score in scores.items() if score == best]
    if len(leaders) > 1:
        # A tie is not evidence; keep the default when it is one of the leaders or not.
        return default
    return leaders[0]
