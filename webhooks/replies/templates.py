"""Reply texts per language.

Rules the texts follow: short enough for one or two SMS, polite, and honest. The engine has no
stock, price or order data, so those answers promise only that a person will check and come
back, never a result. Plain hyphens and straight quotes keep most French/German/Italian texts in
the cheaper GSM-7 SMS alphabet.

A message is assembled as: hello + body [+ tail] + signature. The `media_*` bodies answer a message
with no text (webhooks/replies/turns.py): what a person at the counter would say to a photo or an order.
Opt-out/opt-in confirmations are standalone legal notices and carry the shop name in the body instead.
`card_details` answers a message that held a (masked) card number or IBAN: never send them, we did not
keep them, a person will call. `payment`, `services` and `parking` are hand-overs for a shop that gave
no such fact; FACT_TEMPLATES holds the sentences around the facts it did give (facts.py).
"""

from __future__ import annotations

from typing import Final

FALLBACK_LANGUAGE: Final = "en"

TEMPLATES: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "hello_named": "Bonjour {name}, ",
        "hello": "Bonjour, ",
        "signature": "\n{shop}",
        "greeting": "que pouvons-nous faire pour vous ?",
        "thanks": "avec plaisir, à bientôt !",
        "opening_hours": "nos horaires : {hours}. À bientôt !",
        "address": "vous nous trouverez à cette adresse : {address}. À bientôt !",
        "availability": "merci pour votre message ! Une personne de la boutique vérifie la disponibilité"
        " et vous répond dès que possible.",
        "price": "merci pour votre message ! Une personne de la boutique vérifie le prix et vous répond"
        " dès que possible.",
        "hold": "merci pour votre message ! Une personne de la boutique regarde si l'article peut être"
        " mis de côté et vous confirme dès que possible.",
        "order_status": "merci pour votre message ! Une personne de la boutique vérifie votre commande"
        " et vous répond dès que possible.",
        "returns": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet de votre retour ou échange.",
        "gift_card": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet des cartes cadeaux.",
        "delivery": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet de la livraison.",
        "other": "merci pour votre message ! Une personne de la boutique vous répond dès que possible.",
        "escalate": "merci pour votre message. Je le transmets à l'équipe : une personne de la boutique"
        " vous recontacte dès que possible.",
        "sorry": "nous sommes désolés.",
        "handover": "Je transmets aussi votre message à l'équipe : une personne de la boutique"
        " vous recontacte dès que possible.",
        "escalate_sorry": "nous sommes désolés. Je transmets votre message à l'équipe : une personne de"
        " la boutique vous recontacte dès que possible.",
        "payment": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet du paiement.",
        "services": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet de nos services.",
        "parking": "merci pour votre message ! Une personne de la boutique vous répond dès que possible"
        " au sujet de l'accès et du stationnement.",
        "card_details": "merci pour votre message. Par sécurité, ne nous envoyez jamais de numéro de"
        " carte ni de coordonnées bancaires par message : nous ne les avons pas gardés. Une personne de la"
        " boutique vous contacte.",
        "website": " Plus d'infos : {website}",
        "phone": " Vous pouvez aussi nous appeler au {phone}.",
        "media_image": "merci pour la photo ! Une personne de la boutique la regarde et vous répond dès que"
        " possible.",
        "media_video": "merci pour la vidéo ! Une personne de la boutique la regarde et vous répond dès que"
        " possible.",
        "media_document": "merci pour le document ! Une personne de la boutique le regarde et vous répond"
        " dès que possible.",
        "media_audio": "merci pour votre message vocal ! Nous ne pouvons pas l'écouter ici : pouvez-vous"
        " nous écrire ? Sinon, une personne de la boutique vous rappelle dès que possible.",
        "media_location": "merci pour la localisation, c'est noté !",
        "media_contacts": "merci pour le contact, c'est noté !",
        "media_order": "merci pour votre commande ! Une personne de la boutique la vérifie et vous la"
        " confirme dès que possible.",
        "media_unsupported": "nous n'avons pas pu lire ce message. Pouvez-vous nous l'écrire ?",
        "opt_out": "C'est noté : vous ne recevrez plus de messages de {shop}. Envoyez START pour les"
        " réactiver.",
        "opt_in": "C'est noté : vous recevez à nouveau les messages de {shop}. Envoyez STOP pour les"
        " arrêter.",
    },
    "en": {
        "hello_named": "Hi {name}, ",
        "hello": "Hello, ",
        "signature": "\n{shop}",
        "greeting": "how can we help you?",
        "thanks": "you're welcome, see you soon!",
        "opening_hours": "our opening hours: {hours}. See you soon!",
        "address": "you'll find us at {address}. See you soon!",
        "availability": "thanks for your message! Someone from the shop will check availability and"
        " get back to you as soon as possible.",
        "price": "thanks for your message! Someone from the shop will check the price and get back to"
        " you as soon as possible.",
        "hold": "thanks for your message! Someone from the shop will check whether we can put it aside"
        " and confirm as soon as possible.",
        "order_status": "thanks for your message! Someone from the shop will check your order and get"
        " back to you as soon as possible.",
        "returns": "thanks for your message! Someone from the shop will get back to you about your"
        " return or exchange as soon as possible.",
        "gift_card": "thanks for your message! Someone from the shop will get back to you about gift"
        " cards as soon as possible.",
        "delivery": "thanks for your message! Someone from the shop will get back to you about"
        " delivery as soon as possible.",
        "other": "thanks for your message! Someone from the shop will get back to you as soon as possible.",
        "escalate": "thanks for your message. I'm passing it on to the team: someone from the shop will"
        " contact you as soon as possible.",
        "sorry": "we're sorry to hear that.",
        "handover": "I'm also passing your message on to the team: someone from the shop will"
        " contact you as soon as possible.",
        "escalate_sorry": "we're sorry to hear that. I'm passing your message on to the team: someone"
        " from the shop will contact you as soon as possible.",
        "payment": "thanks for your message! Someone from the shop will get back to you about payment as"
        " soon as possible.",
        "services": "thanks for your message! Someone from the shop will get back to you about our services"
        " as soon as possible.",
        "parking": "thanks for your message! Someone from the shop will get back to you about access and"
        " parking as soon as possible.",
        "card_details": "thanks for your message. For your safety, please never send card or bank details"
        " by message: we have not kept them. Someone from the shop will contact you.",
        "website": " More info: {website}",
        "phone": " You can also call us on {phone}.",
        "media_image": "thanks for the photo! Someone from the shop will look at it and get back to you as"
        " soon as possible.",
        "media_video": "thanks for the video! Someone from the shop will look at it and get back to you as"
        " soon as possible.",
        "media_document": "thanks for the document! Someone from the shop will look at it and get back to"
        " you as soon as possible.",
        "media_audio": "thanks for your voice message! We can't listen to it here: could you write to us?"
        " Otherwise someone from the shop will call you back as soon as possible.",
        "media_location": "thanks for the location, noted!",
        "media_contacts": "thanks for the contact, noted!",
        "media_order": "thanks for your order! Someone from the shop will check it and confirm as soon as"
        " possible.",
        "media_unsupported": "we couldn't read this message. Could you write it to us?",
        "opt_out": "Done: you will no longer receive messages from {shop}. Reply START to receive"
        " them again.",
        "opt_in": "Done: you will receive messages from {shop} again. Reply STOP to unsubscribe.",
    },
    "es": {
        "hello_named": "Hola {name}, ",
        "hello": "Hola, ",
        "signature": "\n{shop}",
        "greeting": "¿en qué podemos ayudarte?",
        "thanks": "¡de nada, hasta pronto!",
        "opening_hours": "nuestro horario: {hours}. ¡Hasta pronto!",
        "address": "nos encontrarás en {address}. ¡Hasta pronto!",
        "availability": "¡gracias por tu mensaje! Una persona de la tienda comprobará la disponibilidad"
        " y te responderá lo antes posible.",
        "price": "¡gracias por tu mensaje! Una persona de la tienda comprobará el precio y te"
        " responderá lo antes posible.",
        "hold": "¡gracias por tu mensaje! Una persona de la tienda comprobará si podemos reservarlo y"
        " te lo confirmará lo antes posible.",
        "order_status": "¡gracias por tu mensaje! Una persona de la tienda revisará tu pedido y te"
        " responderá lo antes posible.",
        "returns": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre tu cambio o devolución.",
        "gift_card": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre las tarjetas regalo.",
        "delivery": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre los envíos.",
        "other": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible.",
        "escalate": "gracias por tu mensaje. Lo paso al equipo: una persona de la tienda se pondrá en"
        " contacto contigo lo antes posible.",
        "sorry": "lo sentimos mucho.",
        "handover": "También paso tu mensaje al equipo: una persona de la tienda se pondrá en"
        " contacto contigo lo antes posible.",
        "escalate_sorry": "lo sentimos mucho. Paso tu mensaje al equipo: una persona de la tienda se"
        " pondrá en contacto contigo lo antes posible.",
        "payment": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre el pago.",
        "services": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre nuestros servicios.",
        "parking": "¡gracias por tu mensaje! Una persona de la tienda te responderá lo antes posible"
        " sobre cómo llegar y aparcar.",
        "card_details": "gracias por tu mensaje. Por tu seguridad, nunca envíes datos de tarjeta ni"
        " bancarios por mensaje: no los hemos guardado. Una persona de la tienda se pondrá en contacto"
        " contigo.",
        "website": " Más información: {website}",
        "phone": " También puedes llamarnos al {phone}.",
        "media_image": "¡gracias por la foto! Una persona de la tienda la mirará y te responderá lo antes"
        " posible.",
        "media_video": "¡gracias por el vídeo! Una persona de la tienda lo mirará y te responderá lo antes"
        " posible.",
        "media_document": "¡gracias por el documento! Una persona de la tienda lo mirará y te responderá lo"
        " antes posible.",
        "media_audio": "¡gracias por tu mensaje de voz! Aquí no podemos escucharlo: ¿puedes escribirnos? Si"
        " no, una persona de la tienda te llamará lo antes posible.",
        "media_location": "¡gracias por la ubicación, anotado!",
        "media_contacts": "¡gracias por el contacto, anotado!",
        "media_order": "¡gracias por tu pedido! Una persona de la tienda lo revisará y te lo confirmará lo"
        " antes posible.",
        "media_unsupported": "no hemos podido leer este mensaje. ¿Puedes escribírnoslo?",
        "opt_out": "Hecho: ya no recibirás mensajes de {shop}. Envía START para volver a recibirlos.",
        "opt_in": "Hecho: volverás a recibir mensajes de {shop}. Envía STOP para darte de baja.",
    },
    "it": {
        "hello_named": "Ciao {name}, ",
        "hello": "Buongiorno, ",
        "signature": "\n{shop}",
        "greeting": "come possiamo aiutarti?",
        "thanks": "prego, a presto!",
        "opening_hours": "i nostri orari: {hours}. A presto!",
        "address": "ci trovi in {address}. A presto!",
        "availability": "grazie per il messaggio! Una persona del negozio verificherà la disponibilità"
        " e ti risponderà al più presto.",
        "price": "grazie per il messaggio! Una persona del negozio verificherà il prezzo e ti"
        " risponderà al più presto.",
        "hold": "grazie per il messaggio! Una persona del negozio verificherà se possiamo tenerlo da"
        " parte e te lo confermerà al più presto.",
        "order_status": "grazie per il messaggio! Una persona del negozio controllerà il tuo ordine e"
        " ti risponderà al più presto.",
        "returns": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto per il"
        " reso o il cambio.",
        "gift_card": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto sui"
        " buoni regalo.",
        "delivery": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto sulle"
        " spedizioni.",
        "other": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto.",
        "escalate": "grazie per il messaggio. Lo passo al team: una persona del negozio ti contatterà"
        " al più presto.",
        "sorry": "ci dispiace molto.",
        "handover": "Passo anche il tuo messaggio al team: una persona del negozio ti contatterà"
        " al più presto.",
        "escalate_sorry": "ci dispiace molto. Passo il tuo messaggio al team: una persona del negozio ti"
        " contatterà al più presto.",
        "payment": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto sui"
        " pagamenti.",
        "services": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto sui"
        " nostri servizi.",
        "parking": "grazie per il messaggio! Una persona del negozio ti risponderà al più presto su come"
        " arrivare e parcheggiare.",
        "card_details": "grazie per il messaggio. Per la tua sicurezza, non inviare mai dati della carta"
        " o bancari via messaggio: non li abbiamo conservati. Una persona del negozio ti contatterà.",
        "website": " Maggiori informazioni: {website}",
        "phone": " Puoi anche chiamarci al {phone}.",
        "media_image": "grazie per la foto! Una persona del negozio la guarderà e ti risponderà al più"
        " presto.",
        "media_video": "grazie per il video! Una persona del negozio lo guarderà e ti risponderà al più"
        " presto.",
        "media_document": "grazie per il documento! Una persona del negozio lo guarderà e ti risponderà al"
        " più presto.",
        "media_audio": "grazie per il messaggio vocale! Qui non possiamo ascoltarlo: puoi scriverci?"
        " Altrimenti una persona del negozio ti richiamerà al più presto.",
        "media_location": "grazie per la posizione, annotata!",
        "media_contacts": "grazie per il contatto, annotato!",
        "media_order": "grazie per l'ordine! Una persona del negozio lo controllerà e te lo confermerà al"
        " più presto.",
        "media_unsupported": "non siamo riusciti a leggere questo messaggio. Puoi scrivercelo?",
        "opt_out": "Fatto: non riceverai più messaggi da {shop}. Invia START per riceverli di nuovo.",
        "opt_in": "Fatto: riceverai di nuovo i messaggi di {shop}. Invia STOP per disiscriverti.",
    },
    "de": {
        "hello_named": "Hallo {name}, ",
        "hello": "Guten Tag, ",
        "signature": "\n{shop}",
        "greeting": "wie können wir Ihnen helfen?",
        "thanks": "gern geschehen, bis bald!",
        "opening_hours": "unsere Öffnungszeiten: {hours}. Bis bald!",
        "address": "Sie finden uns hier: {address}. Bis bald!",
        "availability": "danke für Ihre Nachricht! Jemand aus dem Laden prüft die Verfügbarkeit und"
        " meldet sich so schnell wie möglich.",
        "price": "danke für Ihre Nachricht! Jemand aus dem Laden prüft den Preis und meldet sich so"
        " schnell wie möglich.",
        "hold": "danke für Ihre Nachricht! Jemand aus dem Laden prüft, ob wir den Artikel zurücklegen"
        " können, und bestätigt so schnell wie möglich.",
        "order_status": "danke für Ihre Nachricht! Jemand aus dem Laden prüft Ihre Bestellung und"
        " meldet sich so schnell wie möglich.",
        "returns": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zu Ihrem Umtausch oder Ihrer Rückgabe.",
        "gift_card": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zu Gutscheinen.",
        "delivery": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zum Versand.",
        "other": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich.",
        "escalate": "danke für Ihre Nachricht. Ich gebe sie an das Team weiter: jemand aus dem Laden"
        " meldet sich so schnell wie möglich.",
        "sorry": "das tut uns sehr leid.",
        "handover": "Ich gebe Ihre Nachricht auch an das Team weiter: jemand aus dem Laden meldet"
        " sich so schnell wie möglich.",
        "escalate_sorry": "das tut uns sehr leid. Ich gebe Ihre Nachricht an das Team weiter: jemand"
        " aus dem Laden meldet sich so schnell wie möglich.",
        "payment": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zur Zahlung.",
        "services": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zu unserem Service.",
        "parking": "danke für Ihre Nachricht! Jemand aus dem Laden meldet sich so schnell wie möglich"
        " zu Anfahrt und Parken.",
        "card_details": "danke für Ihre Nachricht. Bitte senden Sie zu Ihrer Sicherheit nie Karten- oder"
        " Bankdaten per Nachricht: wir haben sie nicht gespeichert. Jemand aus dem Laden meldet sich bei"
        " Ihnen.",
        "website": " Mehr Infos: {website}",
        "phone": " Sie können uns auch unter {phone} anrufen.",
        "media_image": "danke für das Foto! Jemand aus dem Laden sieht es sich an und meldet sich so schnell"
        " wie möglich.",
        "media_video": "danke für das Video! Jemand aus dem Laden sieht es sich an und meldet sich so"
        " schnell wie möglich.",
        "media_document": "danke für das Dokument! Jemand aus dem Laden sieht es sich an und meldet sich so"
        " schnell wie möglich.",
        "media_audio": "danke für Ihre Sprachnachricht! Wir können sie hier nicht anhören: können Sie uns"
        " schreiben? Sonst ruft Sie jemand aus dem Laden so schnell wie möglich zurück.",
        "media_location": "danke für den Standort, notiert!",
        "media_contacts": "danke für den Kontakt, notiert!",
        "media_order": "danke für Ihre Bestellung! Jemand aus dem Laden prüft sie und bestätigt so schnell"
        " wie möglich.",
        "media_unsupported": "wir konnten diese Nachricht nicht lesen. Können Sie sie uns schreiben?",
        "opt_out": "Erledigt: Sie erhalten keine Nachrichten mehr von {shop}. Senden Sie START, um"
        " sie wieder zu erhalten.",
        "opt_in": "Erledigt: Sie erhalten wieder Nachrichten von {shop}. Senden Sie STOP zum Abmelden.",
    },
    "pt": {
        "hello_named": "Olá {name}, ",
        "hello": "Olá, ",
        "signature": "\n{shop}",
        "greeting": "como podemos ajudar?",
        "thanks": "de nada, até breve!",
        "opening_hours": "o nosso horário: {hours}. Até breve!",
        "address": "estamos em {address}. Até breve!",
        "availability": "obrigado pela mensagem! Alguém da loja vai verificar a disponibilidade e"
        " responder o mais rápido possível.",
        "price": "obrigado pela mensagem! Alguém da loja vai verificar o preço e responder o mais"
        " rápido possível.",
        "hold": "obrigado pela mensagem! Alguém da loja vai ver se podemos reservar o artigo e"
        " confirmar o mais rápido possível.",
        "order_status": "obrigado pela mensagem! Alguém da loja vai verificar a sua encomenda e"
        " responder o mais rápido possível.",
        "returns": "obrigado pela mensagem! Alguém da loja vai responder sobre a sua troca ou"
        " devolução o mais rápido possível.",
        "gift_card": "obrigado pela mensagem! Alguém da loja vai responder sobre os vales-presente o"
        " mais rápido possível.",
        "delivery": "obrigado pela mensagem! Alguém da loja vai responder sobre as entregas o mais"
        " rápido possível.",
        "other": "obrigado pela mensagem! Alguém da loja vai responder o mais rápido possível.",
        "escalate": "obrigado pela mensagem. Vou passá-la à equipa: alguém da loja vai contactá-lo o"
        " mais rápido possível.",
        "sorry": "lamentamos muito.",
        "handover": "Também vou passar a sua mensagem à equipa: alguém da loja vai contactá-lo o"
        " mais rápido possível.",
        "escalate_sorry": "lamentamos muito. Vou passar a sua mensagem à equipa: alguém da loja vai"
        " contactá-lo o mais rápido possível.",
        "payment": "obrigado pela mensagem! Alguém da loja vai responder sobre o pagamento o mais rápido"
        " possível.",
        "services": "obrigado pela mensagem! Alguém da loja vai responder sobre os nossos serviços o mais"
        " rápido possível.",
        "parking": "obrigado pela mensagem! Alguém da loja vai responder sobre o acesso e o estacionamento o"
        " mais rápido possível.",
        "card_details": "obrigado pela mensagem. Por segurança, nunca envie dados de cartão ou bancários por"
        " mensagem: não os guardámos. Alguém da loja vai contactá-lo em breve.",
        "website": " Mais informações: {website}",
        "phone": " Também pode ligar-nos para {phone}.",
        "media_image": "obrigado pela foto! Alguém da loja vai vê-la e responder o mais rápido possível.",
        "media_video": "obrigado pelo vídeo! Alguém da loja vai vê-lo e responder o mais rápido possível.",
        "media_document": "obrigado pelo documento! Alguém da loja vai vê-lo e responder o mais rápido"
        " possível.",
        "media_audio": "obrigado pela mensagem de voz! Não a conseguimos ouvir aqui: pode escrever-nos? Caso"
        " contrário, alguém da loja liga-lhe o mais rápido possível.",
        "media_location": "obrigado pela localização, anotado!",
        "media_contacts": "obrigado pelo contacto, anotado!",
        "media_order": "obrigado pela encomenda! Alguém da loja vai verificá-la e confirmar o mais rápido"
        " possível.",
        "media_unsupported": "não conseguimos ler esta mensagem. Pode escrevê-la?",
        "opt_out": "Feito: deixará de receber mensagens de {shop}. Envie START para voltar a recebê-las.",
        "opt_in": "Feito: voltará a receber mensagens de {shop}. Envie STOP para cancelar.",
    },
}

REPLY_LANGUAGES: Final = tuple(TEMPLATES)

# Phrases around what the owner wrote in the shop settings (webhooks/replies/facts.py): "<topic>
# <separator> <owner's text>." for a fact, then the address sentence with its map link. Kept out of
# TEMPLATES because their placeholders are not the shop fields every template is filled with.
# `language_names` lists the languages in REPLY_LANGUAGES order, for "(in French)" when the owner
# wrote a fact in the shop's language only.
FACT_TEMPLATES: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "separator": " : ",
        "delivery": "pour la livraison",
        "payment": "pour le paiement",
        "services": "nos services",
        "returns": "pour les retours et échanges",
        "parking": "pour l'accès et le stationnement",
        "address": "vous nous trouverez à cette adresse : {address}.",
        "map": "Plan : {map_url}",
        "map_only": "voici notre plan : {map_url}",
        "see_you": "À bientôt !",
        "in_language": "(en {language})",
        "language_names": "français anglais espagnol italien allemand portugais",
    },
    "en": {
        "separator": ": ",
        "delivery": "for delivery",
        "payment": "for payment",
        "services": "our services",
        "returns": "for returns and exchanges",
        "parking": "for access and parking",
        "address": "you'll find us at {address}.",
        "map": "Map: {map_url}",
        "map_only": "here is a map to find us: {map_url}",
        "see_you": "See you soon!",
        "in_language": "(in {language})",
        "language_names": "French English Spanish Italian German Portuguese",
    },
    "es": {
        "separator": ": ",
        "delivery": "sobre los envíos",
        "payment": "sobre el pago",
        "services": "nuestros servicios",
        "returns": "sobre cambios y devoluciones",
        "parking": "para llegar y aparcar",
        "address": "nos encontrarás en {address}.",
        "map": "Mapa: {map_url}",
        "map_only": "aquí tienes nuestro mapa: {map_url}",
        "see_you": "¡Hasta pronto!",
        "in_language": "(en {language})",
        "language_names": "francés inglés español italiano alemán portugués",
    },
    "it": {
        "separator": ": ",
        "delivery": "per le spedizioni",
        "payment": "per il pagamento",
        "services": "i nostri servizi",
        "returns": "per resi e cambi",
        "parking": "per arrivare e parcheggiare",
        "address": "ci trovi in {address}.",
        "map": "Mappa: {map_url}",
        "map_only": "ecco la mappa per trovarci: {map_url}",
        "see_you": "A presto!",
        "in_language": "(in {language})",
        "language_names": "francese inglese spagnolo italiano tedesco portoghese",
    },
    "de": {
        "separator": ": ",
        "delivery": "zum Versand",
        "payment": "zur Zahlung",
        "services": "unser Service",
        "returns": "zu Umtausch und Rückgabe",
        "parking": "zu Anfahrt und Parken",
        "address": "Sie finden uns hier: {address}.",
        "map": "Karte: {map_url}",
        "map_only": "hier finden Sie uns auf der Karte: {map_url}",
        "see_you": "Bis bald!",
        "in_language": "(auf {language})",
        "language_names": "Französisch Englisch Spanisch Italienisch Deutsch Portugiesisch",
    },
    "pt": {
        "separator": ": ",
        "delivery": "sobre as entregas",
        "payment": "sobre o pagamento",
        "services": "os nossos serviços",
        "returns": "sobre trocas e devoluções",
        "parking": "para chegar e estacionar",
        "address": "estamos em {address}.",
        "map": "Mapa: {map_url}",
        "map_only": "aqui está o nosso mapa: {map_url}",
        "see_you": "Até breve!",
        "in_language": "(em {language})",
        "language_names": "francês inglês espanhol italiano alemão português",
    },
}


def template(language: str, key: str) -> str:
    """Text for `key` in `language`, falling back to English for a language we do not write."""
    return TEMPLATES.get(language, TEMPLATES[FALLBACK_LANGUAGE])[key]
