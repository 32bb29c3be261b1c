"""The words customers use for what a boutique sells, per concept, in French, English, Spanish, Italian
and German at once (customers mix them): catalog.matching reads messages and product names through it.
Data only; a shop selling something new adds a line.
"""

# fmt: off
# --- Vocabulary: concept -> how customers write it (fr, en, es, it, de). Accents and case do not
# matter; plurals and gender endings are handled by `_stem`; several words make a phrase. A shop
# selling something new adds a line here.
GARMENTS: dict[str, tuple[str, ...]] = {
    "robe": ("robe", "dress", "vestido", "vestito", "abito", "kleid"),
    "manteau": ("manteau", "coat", "abrigo", "cappotto", "mantel"),
    "trench": ("trench", "trench coat", "trenchcoat", "gabardina", "impermeable"),
    "doudoune": ("doudoune", "puffer", "puffer jacket", "down jacket", "plumifero", "plumas", "piumino",
                 "daunenjacke", "steppjacke"),
    "jean": ("jean", "jeans", "vaquero", "vaqueros", "tejano", "tejanos", "denim"),
    "chemise": ("chemise", "shirt", "camisa", "camicia", "hemd"),
    "blouse": ("blouse", "blusa", "bluse"),
    "pull": ("pull", "pullover", "jumper", "sweater", "jersey", "maglione", "pulli", "dolcevita", "rolli"),
    "cardigan": ("cardigan", "gilet", "chaqueta de punto", "strickjacke"),
    "mariniere": ("mariniere", "breton top", "striped top", "ringelpulli", "ringelshirt"),
    "tshirt": ("t shirt", "tshirt", "tee", "tee shirt", "camiseta", "maglietta"),
    "veste": ("veste", "jacket", "chaqueta", "giacca", "jacke"),
    "blazer": ("blazer",),
    "pantalon": ("pantalon", "trousers", "pants", "pantalones", "pantaloni", "hose"),
    "jupe": ("jupe", "skirt", "falda", "gonna", "rock"),
    "sac": ("sac", "bag", "handbag", "bolso", "bolsa", "borsa", "tasche", "handtasche"),
    "bottines": ("bottine", "bottines", "boots", "ankle boots", "botines", "stivaletti", "stiefeletten",
                 "stiefelette"),
    "escarpins": ("escarpin", "escarpins", "pumps", "heels", "court shoes", "salones", "decollete"),
    "baskets": ("basket", "baskets", "sneaker", "sneakers", "trainers", "zapatillas",
                "scarpe da ginnastica", "turnschuhe"),
    "mocassins": ("mocassin", "mocassins", "loafers", "mocasines", "mocassini", "mokassins", "slipper"),
    "foulard": ("foulard", "silk scarf", "panuelo", "halstuch", "tuch"),
    "echarpe": ("echarpe", "scarf", "bufanda", "sciarpa", "schal"),
    "ceinture": ("ceinture", "belt", "cinturon", "cintura", "gurtel"),
    "bonnet": ("bonnet", "beanie", "gorro", "berretto", "cuffia", "mutze"),
    "chaussures": ("chaussures", "shoes", "zapatos", "scarpe", "schuhe"),
    "maille": ("maille", "knitwear", "knit", "punto", "maglieria", "strick"),
    "haut": ("haut", "top", "tops"),
    "accessoires": ("accessoire", "accessories", "accesorios", "accessori", "accessoires"),
}
# Details that tell two products of one type apart (materials, cuts).
DETAILS: dict[str, tuple[str, ...]] = {
    "portefeuille": ("portefeuille", "wrap", "cruzado", "portafoglio", "wickel"),
    "col roule": ("col roule", "roll neck", "rollneck", "turtleneck", "polo neck", "cuello alto",
                  "dolcevita", "collo alto", "rollkragen", "rolli"),
    "lin": ("lin", "linen", "lino", "leinen"),
    "laine": ("laine", "wool", "lana", "wolle"),
    "cuir": ("cuir", "leather", "cuero", "piel", "pelle", "leder"),
    "soie": ("soie", "silk", "seda", "seta", "seide"),
    "cachemire": ("cachemire", "cashmere", "cachemir", "kaschmir"),
    "coton": ("coton", "cotton", "algodon", "cotone", "baumwolle"),
    "daim": ("daim", "suede", "ante", "scamosciato", "scamosciati", "wildleder"),
    "vernis": ("vernis", "patent", "charol", "vernice", "lack", "lackleder"),
    "plissee": ("plisse", "plissee", "pleated", "plisada", "plisado", "plissettata", "plissettato"),
    "cotele": ("cotele", "ribbed", "canale", "a coste", "gerippt", "rippe"),
    "droit": ("droit", "straight", "straight leg", "recto", "dritti", "dritto", "gerade"),
    "slim": ("slim", "skinny", "pitillo", "aderenti"),
    "longue": ("long", "longue", "largo", "larga", "lungo", "lunga", "lang", "maxi"),
    "fleurie": ("fleuri", "fleurie", "floral", "flowery", "flores", "fiori", "geblumt", "blumen"),
    "legere": ("leger", "legere", "light", "lightweight", "ligero", "leggero", "leicht"),
    "talon": ("talon", "talons", "heel", "heeled", "tacon", "tacco", "absatz"),
    "croise": ("croise", "double breasted", "cruzado", "doppiopetto", "zweireiher"),
    "pinces": ("pince", "pinces", "pinzas", "bundfalten", "pleated trousers"),
    "imprime": ("imprime", "printed", "print", "estampado", "stampato", "bedruckt"),
    "raye": ("raye", "rayee", "striped", "stripes", "rayas", "righe", "gestreift", "gestreiften",
             "ringel"),
    "banane": ("banane", "belt bag", "bum bag", "fanny pack", "rinonera", "marsupio", "bauchtasche"),
    "cabas": ("cabas", "tote", "shopper"),
    "homme": ("homme", "men", "mens", "hombre", "uomo", "herren", "herrenhemd"),
    "delave": ("delave", "washed", "lavado", "slavato"),
    "brut": ("brut", "raw", "rigid"),
    "mom": ("mom",),
}
COLOURS: dict[str, tuple[str, ...]] = {
    "bleu": ("bleu", "bleue", "blue", "azul", "blu", "blau"),
    "ciel": ("ciel", "clair", "light blue", "sky", "sky blue", "celeste", "azzurro", "hell", "hellblau"),
    "marine": ("marine", "navy", "marino", "blu navy", "dunkelblau", "marineblau"),
    "noir": ("noir", "noire", "black", "negro", "negra", "nero", "nera", "neri", "nere", "schwarz"),
    "blanc": ("blanc", "blanche", "white", "blanco", "blanca", "bianco", "bianca", "bianchi", "bianche",
              "weiss"),
    "beige": ("beige", "sable", "sand"),
    "kaki": ("kaki", "khaki", "caqui", "cachi", "oliv"),
    "camel": ("camel", "cammello", "camello"),
    "bordeaux": ("bordeaux", "burgundy", "granate", "burdeos", "bordo", "weinrot"),
    "gris": ("gris", "grise", "grey", "gray", "grigio", "grigia", "grau"),
    "rose": ("rose", "pink", "rosa"),
    "ecru": ("ecru", "crudo", "cruda", "naturweiss"),
    "ivoire": ("ivoire", "ivory", "marfil", "avorio", "elfenbein"),
    "terracotta": ("terracotta", "terracota", "terrakotta"),
    "rouge": ("rouge", "red", "rojo", "roja", "rosso", "rossa", "rot"),
    "vert": ("vert", "verte", "green", "verde", "grun"),
    "cognac": ("cognac", "conac", "tan"),
    "marron": ("marron", "brown", "marrone", "braun"),
    "or": ("or", "gold", "oro", "golden"),
    "jaune": ("jaune", "yellow", "amarillo", "giallo", "gelb"),
    "violet": ("violet", "purple", "morado", "viola", "lila"),
    "orange": ("orange", "naranja", "arancione"),
}
# What boutiques are often asked for but this catalogue may not sell: naming one is a "none" unless
# the shop's own product names use it.
NOT_SOLD: dict[str, tuple[str, ...]] = {
    "pyjama": ("pyjama", "pijama", "pigiama", "schlafanzug"),
    "maillot": ("maillot de bain", "swimsuit", "bikini", "banador", "costume da bagno", "badeanzug"),
    "lunettes": ("lunettes", "sunglasses", "glasses", "gafas", "occhiali", "sonnenbrille",
                 "sonnenbrillen"),
    "costume": ("costume", "suit", "traje", "abito da uomo", "anzug"),
    "gants": ("gants", "gloves", "guantes", "guanti", "handschuhe"),
    "cravate": ("cravate", "tie", "corbata", "cravatta", "krawatte"),
    "casquette": ("casquette", "cap", "gorra", "cappellino", "kappe", "baseball", "beisbol"),
    "chaussettes": ("chaussette", "chaussettes", "socks", "calcetines", "calzini", "socken", "collant",
                    "collants", "tights", "strumpfhose"),
    "enfant": ("enfant", "enfants", "kids", "children", "nino", "ninos", "bambini", "bambino", "kinder"),
    "mariee": ("mariee", "wedding", "bride", "novia", "sposa", "braut"),
    "marque": ("nike", "adidas", "zara", "gucci", "levis", "converse", "vans", "puma", "reebok"),
}
# fmt: on

# --- Words that are not about what the shop sells. Accent-free, lower-case.


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# fmt: off
# Garment words too vague to make a message a stock question on their own: "Top merci", "c'est top".
VAGUE: frozenset[str] = frozenset({"haut"})
# A message made only of these is small talk (thanks, greetings, wishes, acknowledgements), never a
# stock question, whatever the shop sells: the normal reply engine answers it.
SMALL_TALK: frozenset[str] = _wordset("""
    merci mrc mci beaucoup bcp encore mille thanks thank thx ty you so much very cheers gracias muchas
    grazie tante danke dank dankeschon vielen schon obrigado obrigada obg
    bonjour bonsoir bjr bsr slt salut coucou cc hello hi hey hiya good morning evening afternoon night
    hola buenas buenos buen dias tardes noches ciao buongiorno buonasera buonanotte salve hallo guten
    tag morgen abend moin servus ola bom boa dia tarde noite
    ok okay oki okey kk k d accord dac daccord parfait super top nickel cool great perfect vale perfecto
    genial va bene perfetto alles klar gut prima perfeito genau tres trop bien
    bonne bonnes bon belle beau bel journee soiree nuit annee fete fetes noel week end weekend vacances
    anniversaire dimanche a vous toi aussi de et la le les votre ton ta egalement pareil
    have a an the nice day happy new year merry christmas holidays weekend too same to all
    feliz navidad ano nuevo fin semana igualmente tambien buona giornata serata anno natale fine
    settimana anche frohe weihnachten frohes neues jahr schones wochenende ebenfalls auch einen
    ein schonen schoner
""")
# Frequent words of French, English, Spanish, Italian and German that a typo must never turn into a
# shop's word ("bonne" is not "bonnet", "reste" is not "veste", "celle" is not "pelle").
COMMON_WORDS: frozenset[str] = _wordset("""
    bonne bonnes belle belles beau beaux haute hautes toute toutes reste encore toujours merci bien tres
    mille vous nous elle elles pour dans avec sans sont etes avez avoir faire fait peut plus moins mais
    donc alors aussi comme quand quel quelle quels quelles cette celle celui ceux autre autres meme
    votre notre leur leurs jour journee soir soiree nuit annee fete fetes semaine demain heure heures
    besoin envie idee photo photos site lien prix taille couleur modele article boutique magasin
    hello thanks please there this that what when where which have will would could should about from
    with your they them then than just like good nice very much more some only also still left
    hola gracias porfa bien tiene tienen tengo tenemos esta este esto estas estos para pero como cuando
    donde algo otra otro mucho muchas buena bueno buenas tarde noche hasta luego todo toda
    ciao grazie avete abbiamo questo questa quello quella sono molto anche ancora buona buono sera
    notte giorno tutto tutti come quando dove grande bella bello
    hallo danke bitte haben habt gibt noch eine einen einer nicht auch schon sehr gerne heute morgen
    gute guten schon schone dies diese dieser dieses wann warum
""")

# Message words that are never a product word, even when a stem says so ("encore", "reste").
NOT_PRODUCT_WORDS: frozenset[str] = _wordset("""
    hello hola ciao hallo bonjour salut coucou buongiorno buonasera guten merci thanks gracias grazie
    danke please porfa bitte reste encore toujours dispo still left have avez avete tienen haben habt
    there this that what when where vous nous elle elles pour dans mille bien tres
""")
STOPWORDS: frozenset[str] = _wordset("""
    a au aux avec de des du en et la le les un une pour sur the in of and with el los las con di da del
    il lo gli i in con der die das den dem mit und im
""")
# fmt: on
# Regular-expression alternatives, matched as whole words on accent-free, lower-case text after
# elisions are dropped. Words that ask "do you have it":
STOCK_CUES = (
    r"vous avez|avez vous|reste|dispo\w*|stock|vendez|vous faites|ya|y a|encore|toujours"
    r"|have|any|still|available|left|sell|tienen|teneis|hay|queda\w*|vend\w+|todavia|avete|ancora"
    r"|ci sono|haben sie|habt ihr|gibt es|noch|verkauf\w+|verfugbar|lager"
)
# Words that show the message is about something else even when it names a product: an item bought,
# a return, care, alterations, a pick-up, a payment, a defect (the intent classifier catches more).
OTHER_CUES = (
    r"achete\w*|bought|compre|comprato|comprata|gekauft|retourner|rembours\w*|echanger"
    r"|return|refund|exchange|devolver|cambiar\w*|restituire|umtauschen|zuruckgeben|laver|lavable"
    r"|wash\w*|lavar|lavare|lavatrice|waschen|waschbar|retouches?|ourlet|alterations?|hem|arreglos?"
    r"|recuperer|pick up|recoger|ritirare|abholen|trou|hole|buco|loch|agujero|macchia|tache|stain"
    r"|broken|kaputt|pagar|payer|pay|bezahlen|ouverts?|open|abren|aperto|geoffnet|close"
    r"|recu|received|recibido|ricevuto|erhalten|mauvais|wrong"
)

# Letter sizes, smallest first: how the matcher reads them and how the answers order the nearest ones.
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
