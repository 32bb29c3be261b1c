"""The word lists of webhooks/names.py: cues that introduce a name, civilities, particles, sign-offs,
and the words that are never names (common words, brands, festivals). Data, kept apart from the rules.
"""


def _words(text: str) -> frozenset[str]:
    """A lexicon written as whitespace-separated words (easier to read and extend than a list)."""
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[str]:
    """A lexicon of "|"-separated phrases."""
    return frozenset(p.strip() for p in text.split("|") if p.strip())


# Cues are sequences of lower-cased, accent-free tokens (see _fold). Apostrophes are
# normalised to "'" and kept inside tokens, so "c'est" is one token and "c est" two.
STRONG_CUES: tuple[tuple[str, ...], ...] = (
    ("je", "m'appelle"),
    ("je", "m", "appelle"),
    ("jm'appelle",),
    ("je", "mappelle"),
    ("mon", "nom", "est"),
    ("mon", "nom", "c'est"),
    ("mon", "prenom", "est"),
    ("mon", "prenom", "c'est"),
    ("je", "me", "nomme"),
    ("je", "me", "prenomme"),
    ("my", "name", "is"),
    ("my", "name's"),
    ("my", "first", "name", "is"),
    ("me", "llamo"),
    ("mi", "nombre", "es"),
    ("mi", "chiamo"),
    ("il", "mio", "nome", "e"),
    ("mein", "name", "ist"),
    ("ich", "heisse"),
    ("ich", "heiße"),
    ("meu", "nome", "e"),
    ("me", "chamo"),
    ("chamo-me",),
)

# Weak cues must open their clause: only greetings/fillers may precede them (see LEAD_WORDS).
WEAK_CUES: tuple[tuple[str, ...], ...] = (
    ("moi", "c'est"),
    ("c'est", "moi", ","),
    ("it's", "me", ","),
    ("c'est",),
    ("c",),  # SMS shorthand: "Bjr c Kevin"
    ("c", "est"),
    ("ici",),
    ("je", "suis"),
    ("this", "is"),
    ("it's",),
    ("it", "is"),
    ("i'm",),
    ("im",),
    ("i", "am"),
    ("soy",),
    ("aqui", "es"),
    ("sono",),
    ("io", "sono"),
    ("qui", "e"),
    ("ich", "bin"),
    ("hier", "ist"),
    ("sou",),
    ("aqui", "e"),
)

# Weak cues that introduce the speaker, not a thing ("c'est" also says "C'est Nouvel An"): after
# these, a first and last name the list does not know is accepted when it ends the clause.
INTRODUCING_CUES: frozenset[tuple[str, ...]] = frozenset(WEAK_CUES) - {
    ("c'est", "moi", ","),
    ("it's", "me", ","),
    ("c'est",),
    ("c",),
    ("c", "est"),
    ("it's",),
    ("it", "is"),
}
# What may follow such a name: the end of the text or a punctuation mark that closes a clause.
CLAUSE_END = frozenset(",.!?;:)")

# Words allowed before a weak cue in its clause: greetings and fillers, never a noun such as
# "ma sœur" (third person: "Ma sœur c'est Amandine").
LEAD_WORDS = _words("""
    bonjour bonsoir salut coucou hello hi hey hola buenas buenos dias tardes noches ciao salve
    buongiorno buonasera hallo guten tag morgen abend servus moin ola oi bom dia boa tarde noite
    bjr bsr slt cc re rebonjour oui yes si ok okay alors so and et well oh ah dear madame monsieur
    moi io yo ich eu encore again
    """)

# Words that may sit between a weak cue and the name ("c'est encore Sylvie", "sou a Beatriz").
CUE_FILLERS = frozenset({"encore", "again", "just", "a", "o"})

# After a weak cue, a name followed by one of these is the subject of a cleft or relative
# clause, i.e. somebody else: "C'est Paul qui passera", "It's Tom who ordered".
RELATIVE_WORDS = _words("qui que qu who whom that which che cui quien quienes der die das welche wer")

CIVILITIES = {
    "mme": "mme",
    "madame": "mme",
    "mmes": "mme",
    "mlle": "mme",
    "mademoiselle": "mme",
    "m": "m",
    "mr": "m",
    "monsieur": "m",
    "mrs": "mme",
    "ms": "mme",
    "miss": "mme",
    "sr": "m",
    "sra": "mme",
    "srta": "mme",
    "senor": "m",
    "senora": "mme",
    "sig": "m",
    "sigra": "mme",
    "signor": "m",
    "signore": "m",
    "signora": "mme",
    "herr": "m",
    "frau": "mme",
    "dona": "mme",
    "dr": "m",
}

# Lower-case particles inside surnames: "Le Roux", "Da Silva", "de La Fontaine", "van der Berg".
PARTICLES = _words("de du des d' le la les da das dos do di del della van von der den ten ter zu y e")
# How particles are written when the text gives no case information (all lower or all caps).
PARTICLES_LOWER = _words("de du des van von der den ten ter zu y e")

# Sign-offs. A signature is the line after one of these, or on the same line for the formal
# ones (an inline "Merci Camille" thanks the assistant, it is not a signature).
CLOSERS = _phrases("""
    cordialement|bien cordialement|tres cordialement|bien a vous|bien a toi|a bientot|a tres vite|
    sinceres salutations|salutations|bonne journee|bonne soiree|belle journee|bonne fin de journee|
    merci|merci beaucoup|merci d'avance|merci encore|merci bien|merci a vous|bises|bisous|
    grosses bises|bisou|amicalement|
    cheers|best|best regards|kind regards|regards|warm regards|many thanks|thanks|thank you|thx|
    love|xoxo|xx|all the best|best wishes|
    saludos|un saludo|saludos cordiales|gracias|muchas gracias|un abrazo|besos|
    grazie|grazie mille|saluti|cordiali saluti|un saluto|distinti saluti|a presto|baci|
    viele grusse|liebe grusse|mit freundlichen grussen|beste grusse|danke|vielen dank|lg|vg|
    obrigado|obrigada|abracos|atenciosamente|beijos|um abraco|cumprimentos
    """)
FORMAL_CLOSERS = _phrases("""
    cordialement|bien cordialement|tres cordialement|bien a vous|sinceres salutations|
    regards|best regards|kind regards|warm regards|saludos cordiales|cordiali saluti|
    distinti saluti|mit freundlichen grussen|atenciosamente
    """)

# Words that are first names in the list but, after a weak cue or alone on a line, far more
# often mean something else: holidays, months, days, places, nationalities, brands.
NOT_NAMES = _words("""
    noel paques pentecote toussaint ascension assomption paque halloween christmas easter
    ramadan ramadhan ramazan diwali deepavali eid aid hanukkah kwanzaa holi navratri saint sainte st
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
    january february march april may june july august september october november december
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
    januar februar marz juni juli oktober dezember
    lundi mardi mercredi jeudi vendredi samedi dimanche
    monday tuesday wednesday thursday friday saturday sunday
    lunes martes miercoles jueves viernes sabado domingo
    lunedi martedi mercoledi giovedi venerdi sabato domenica
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    paris lyon marseille lille nice nantes bordeaux toulouse rennes strasbourg montpellier
    london londres madrid barcelona barcelone roma rome milano milan berlin munich lisboa
    lisbonne porto bruxelles geneve lausanne france francia parigi europe
    francais francaise anglais anglaise espagnol espagnole italien italienne allemand allemande
    breton bretonne normand normande parisien parisienne belge suisse
    french english spanish italian german british american
    maje sandro sezane chanel dior gucci prada zara mango jacquemus kenzo marant lauren
    mccartney hilfiger armani versace lacoste
    """)
# Fashion houses named after a person: "Paul", "Isabel" or "Vanessa" stay first names, only
# the pair is refused.
BRANDS = frozenset(
    (
        "isabel marant",
        "ralph lauren",
        "paul smith",
        "vanessa bruno",
        "stella mccartney",
        "tommy hilfiger",
        "jean paul gaultier",
        "yves saint laurent",
        "agnes b",
        "marc jacobs",
        "michael kors",
        "calvin klein",
        "hugo boss",
        "karl lagerfeld",
    )
)
BRAND_ONLY = _words("maje sandro sezane zara mango jacquemus kenzo gucci prada chanel dior")

# Common words that are also frequent surnames: accepted as a surname when they end the name
# ("JE M'APPELLE NICOLAS BLANC"), not when the sentence goes on.
SURNAME_WORDS = _words("blanc petit grand noir roux brun rose marine belle beau bon fort young rich")

# Common words of the six languages: never a name when written in lower case (or in a text
# without case information), and never a surname after a lower-case first name.
COMMON_WORDS = _words("""
    a à au aux avec ce ces cet cette ceci cela ça ca dans de des du en et est elle elles il ils
    je j' j la le les leur lui ma mais me mes moi mon ne ni nous on ou où par pas pour qu que qui
    sa se ses si son sur ta te tes toi ton tu un une vos votre vous y c c' l' d' m' n' s' t'
    suis es sommes êtes sont etes ai as avons avez ont était etait serai sera vais va allons
    très tres trop bien mal peu beaucoup plus moins aussi encore déjà deja juste seulement
    ici là la-bas voici voilà voila oui non merci bonjour bonsoir salut coucou madame monsieur
    intéressé intéressée interesse interessee ravi ravie désolé désolée desole desolee content
    contente sûr sûre sur certaine certain passé passée passe passee venu venue allé allée
    cliente client fan enceinte maman papa mère mere père pere fille fils mari femme amie ami
    sœur soeur frère frere collègue collegue copine copain
    grand grande petit petite belle beau joli jolie rose blanc blanche noir noire rouge bleu
    bleue vert verte gris grise claire clair marine olive prune camel beige violette
    robe jupe pull veste manteau taille commande boutique magasin cadeau retouche chemise
    pantalon
    comment quand pourquoi quel quelle quels quelles combien dispo disponible ouvert ouverte
    ouverts fermé fermée fermé aujourd'hui demain hier matin soir semaine prochain prochaine
    chez vers après apres avant pendant depuis sans sous entre contre
    cherche voudrais veux peux pouvez avez vais souhaite aimerais besoin
    the an and or but of to in on at for from with by as is am are was were be been being
    i me my mine you your he him his she her it its we us our they them their this that these
    those here there not no yes so very too just only also still already really
    looking interested sorry happy glad sure good great fine ok okay new back home done
    writing calling texting wondering trying going coming here again hope will may can
    today tomorrow tonight yesterday free busy late early available ready outside nearby open
    closed online abroad away
    mum mom dad wife husband daughter son sister brother friend mother father
    grace joy hope faith summer autumn winter spring dawn ruby amber pearl ivy holly sunny
    rich bill mark pat sue art will may june april august frank earnest honey angel sky
    el la los las un una unos unas y o de del al en con por para sin sobre es soy estoy
    muy mucho poco ya aqui aquí alli allí hola gracias señora senora señor senor
    fan interesada interesado contenta contento feliz buscando de nuevo
    il lo gli le i un uno una e o di da del della in con su per tra fra è e sono sei siamo
    molto poco già gia qui qua ciao grazie contenta contento felice serena interessata
    interessato in ritardo arrivo arrivata
    der die das ein eine einen und oder von zu mit im in am an auf aus bei für fur ist bin
    bist sind sehr schon noch hier da gleich interessiert froh fertig ernst
    o a os as um uma e de do da dos das em no na com por para sou estou muito já ja aqui
    obrigado obrigada interessada interessado contente
    """)


# --------------------------------------------------------------------------- text helpers
