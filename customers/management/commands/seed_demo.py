"""A realistic French boutique to explore Coccinelle with: customers, months of messages, orders, notes."""

import random
import secrets
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from customers import events
from customers.figures import figures_refresh_all
from customers.models import ChannelAddress, Customer, Interaction, Membership, Note, Order, Shop, Tag
from customers.segments import segments_refresh
from customers.services import membership_add

SHOP_SLUG = "maison-coccinelle"
DEMO_USERNAME = "demo"
TWILIO_NUMBER = "+33757000000"
WHATSAPP_PHONE_NUMBER_ID = "100000000000001"

FIRST_NAMES = [
    "Julie",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Sarah",
    "Lucie",
    "Clara",
    "Anaïs",
    "Pauline",
    "Marie",
    "Hélène",
    "Agnès",
    "Océane",
    "Zoé",
    "Louise",
    "Alice",
    "Margaux",
    "Élodie",
    "Sandrine",
    "Nathalie",
    "Isabelle",
    "Sophie",
    "Céline",
    "Aurélie",
    "Juliette",
    "Mathilde",
    "Amandine",
    "Louis",
    "Hugo",
    "Thomas",
    "Nicolas",
    "Antoine",
    "Julien",
    "Maxime",
    "Paul",
    "Victor",
    "Gérard",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Le Roux",
    "Da Silva",
]
TAGS = ["auto-created", "sms", "whatsapp", "fidélité", "mariage", "retouches", "newsletter", "taille 38"]
INBOUND = [
    "Bonjour, avez-vous la robe portefeuille en {size} ?",
    "Vous êtes ouverts dimanche ?",
    "Est-ce que vous pouvez me garder le manteau camel jusqu'à samedi ?",
    "Merci beaucoup, je passe demain !",
    "Bonjour, c'est combien les bottines en cuir ?",
    "Ma commande est-elle prête ?",
    "Je voudrais échanger le pull, il est trop petit.",
    "Vous avez reçu la nouvelle collection ?",
    "Avez-vous des cartes cadeaux ?",
    "Coucou, le jean existe en {size} ?",
]
OUTBOUND = [
    "Bonjour {name}, oui nous l'avons en {size}. Nous vous la gardons jusqu'à demain 19h.",
    # The shop's own hours, every day it lists (Sunday included), as the reply engine quotes them.
    "Bonjour {name}, nos horaires : du mardi au samedi de 10h à 19h, le dimanche de 14h à 18h.",
    "Bonjour {name}, votre commande vous attend en boutique.",
    "Avec plaisir {name}, à bientôt !",
]
NOTES = [
    "Préfère être contactée par WhatsApp.",
    "Cherche une tenue pour un mariage en juin.",
    "Taille 38 en haut, 40 en bas.",
    "Cliente fidèle, aime les couleurs vives.",
    "A demandé à être prévenue de l'arrivée des soldes.",
]


# What the customers waiting for a person asked (the inbox), and the automatic reply's holding answer.
WAITING = [
    "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous me rappeler ?",
    "Je voudrais échanger la robe achetée samedi, elle est trop petite. Comment faire ?",
    "Est-il possible de parler à quelqu'un au sujet d'un remboursement ?",
    "La fermeture de la veste est cassée après deux jours, je suis déçue.",
]
# What an automatic reply did, as webhooks.autoreply marks it (REPLY_KIND_KEY, ANSWER, HANDOVER) and the
# analytics read it; spelled out here because customers imports nothing from webhooks (a test checks).
REPLY_KIND_KEY, ANSWER, HANDOVER = "_reply_kind", "answer", "handover"
PARIS = ZoneInfo("Europe/Paris")  # the demo shop's time zone (the default)
HOLDING = (
    "Merci pour votre message, je le transmets à l'équipe : "
    "quelqu'un de la boutique vous répond au plus vite."
)


class Command(BaseCommand):
    help = "Create the demo boutique with a few hundred customers; run again, it only renews the login."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument("--password", help="password for the demo login (default: a new random one)")

    def handle(self, *args, **opts):
        password = opts["password"] or secrets.token_urlsafe(9)
        with transaction.atomic():
            shop, created = self._shop()
            user = self._login(shop, password)
            if created:
                self._populate(shop, opts["customers"], author=user)
            # Told on every run: the apps above customers (the catalogue) add their part of the demo, once,
            # without customers importing them; a demo shop made before them gets it on the next run.
            events.emit(events.DEMO_SHOP_SEEDED, shop_id=shop.pk)
        count = Customer.objects.filter(shop=shop).count()
        state = "created" if created else "already there"
        self.stdout.write(f"Demo shop “{shop.name}” ({shop.slug}) {state}: {count} customers.")
        self.stdout.write(f"Login: username {DEMO_USERNAME}  password {password}")

    def _shop(self):
        shop = Shop.objects.filter(slug=SHOP_SLUG).first()
        if shop:
            return shop, False
        shop = Shop.objects.create(
            name="Maison Coccinelle",
            slug=SHOP_SLUG,
            country="FR",
            language="fr",
            address="12 rue des Martyrs, 75009 Paris",
            website="https://maison-coccinelle.example",
            contact_phone="+33 1 84 88 00 00",
            vip_min_spent=Decimal("800"),
        )
        # get_or_create: a database that already routes these addresses to another shop keeps them.
        ChannelAddress.objects.get_or_create(
            provider=ChannelAddress.Provider.TWILIO, address=TWILIO_NUMBER, defaults={"shop": shop}
        )
        ChannelAddress.objects.get_or_create(
            provider=ChannelAddress.Provider.META, address=WHATSAPP_PHONE_NUMBER_ID, defaults={"shop": shop}
        )
        return shop, True

    def _login(self, shop, password):
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=DEMO_USERNAME, defaults={"email": "demo@example.com"})
        user.set_password(password)
        user.save()
        membership_add(shop=shop, user=user, role=Membership.Role.OWNER)
        return user

    def _populate(self, shop, how_many, author=None):
        rng = random.Random(42)  # the same demo every time
        now = timezone.now()
        tags = {name: Tag.objects.create(shop=shop, name=name) for name in TAGS}
        customers = Customer.objects.bulk_create(self._customer(shop, rng, now, i) for i in range(how_many))
        customers += self._duplicates(shop, customers[:2], now)
        through = Customer.tags.through
        links = []
        for customer in customers:
            names = {customer.source} | set(rng.sample(TAGS[3:], rng.randint(0, 2)))
            if customer.source in ("sms", "whatsapp"):
                names.add("auto-created")
            links += [through(customer_id=customer.pk, tag_id=tags[n].pk) for n in names if n in tags]
        through.objects.bulk_create(links)
        Interaction.objects.bulk_create(i for c in customers for i in self._conversation(c, rng, author))
        Customer.objects.bulk_update(customers, ["last_contact_at", "attention_since"], batch_size=500)
        Order.objects.bulk_create(o for c in customers for o in self._orders(shop, c, rng, now))
        # Written by the shop's owner (a note without author reads "someone" on the pages).
        Note.objects.bulk_create(
            Note(
                customer=c, body=rng.choice(NOTES), author=author, created_at=c.created_at + timedelta(days=1)
            )
            for c in customers
            if rng.random() < 0.25
        )
        # bulk_create sends no signal: the list's figures (revenue, the latest message the customer
        # wrote) are computed once here, as the services keep them afterwards.
        figures_refresh_all(Customer.objects.filter(shop=shop))
        segments_refresh(shop=shop)

    def _customer(self, shop, rng, now, i):
        # Customers write while the shop is open (10:00-18:00 in Paris), as most do: a person's answer
        # then waits business minutes, not a night the analytics leave out.
        day = timezone.localtime(now - timedelta(days=rng.randint(1, 420)), PARIS)
        minutes = rng.randint(0, 1440) * 480 // 1440
        first_contact = day.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)
        channel = rng.choice(["sms", "whatsapp", "whatsapp"])
        return Customer(
            shop=shop,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES) if rng.random() < 0.8 else "",
            name_source=Customer.NameSource.TEXT,
            phone=f"+336{10000000 + i * 7919:08d}",
            email=f"client{i}@example.com" if rng.random() < 0.5 else None,
            preferred_channel=channel,
            language="fr" if rng.random() < 0.9 else rng.choice(["en", "es", "it"]),
            source=channel,
            city=rng.choice(["Paris", "Paris", "Montreuil", "Boulogne-Billancourt", "Levallois-Perret"]),
            needs_attention=rng.random() < 0.05,
            opted_out_at=now - timedelta(days=3) if rng.random() < 0.03 else None,
            first_contact_at=first_contact,
            last_contact_at=first_contact,
            created_at=first_contact,
        )

    def _duplicates(self, shop, originals, now):
        """Records a shop ends up with: the same person imported by e-mail after writing by SMS."""
        twins = [
            Customer(
                shop=shop,
                first_name=o.first_name,
                last_name=o.last_name or "Martin",
                # A second e-mail would make them two people; the twin brings a postal address instead.
                email=None if o.email else f"{slugify(o.first_name)}.{i}@example.com",
                address_line1="3 place du Marché" if o.email else "",
                source="import",
                created_at=now - timedelta(days=2),
            )
            for i, o in enumerate(originals)
        ]
        for original, twin in zip(originals, twins, strict=True):
            if not original.last_name:
                original.last_name = twin.last_name
                original.save(update_fields=["last_name"])
        return Customer.objects.bulk_create(twins)

    def _conversation(self, customer, rng, author=None):
        if not customer.first_contact_at:
            return []
        at, messages, now = customer.first_contact_at, [], timezone.now()
        for _ in range(rng.randint(1, 6)):
            if at > now:
                break
            size = rng.choice(["36", "38", "40", "M", "L"])
            question = self._message(customer, "inbound", rng.choice(INBOUND).format(size=size), at)
            messages.append(question)
            by_a_person = timedelta(minutes=rng.randint(2, 90))
            reply = rng.choice(OUTBOUND).format(name=customer.first_name, size=size)
            # The reply engine answers most, within seconds, saying what it did (as webhooks.autoreply
            # records it: the analytics count it); the shop's owner answers the rest, minutes later.
            automatic = rng.random() < 0.8
            at += timedelta(seconds=3 + len(reply) % 5) if automatic else by_a_person
            answer = self._message(customer, "outbound", reply, min(at, now), status="delivered")
            answer.is_automatic = automatic
            if automatic:
                answer.raw_payload = {"demo": True, REPLY_KIND_KEY: ANSWER}
            else:
                answer.author = author
            messages.append(answer)
            at += timedelta(days=rng.randint(3, 40))
        if customer.needs_attention:
            messages += self._waiting(customer, rng, now)
        # Last contact is the customer's latest message, not the shop's reply to it (as the pipeline does).
        customer.last_contact_at = max(m.occurred_at for m in messages if m.direction == "inbound")
        return messages

    def _waiting(self, customer, rng, now):
        """A customer the inbox shows: a question for a person in the last two days, the automatic
        reply's holding answer, and nobody from the shop since."""
        asked = now - timedelta(hours=rng.randint(1, 44), minutes=rng.randint(0, 59))
        customer.attention_since = asked
        question = self._message(customer, "inbound", rng.choice(WAITING), asked)
        answered = asked + timedelta(seconds=8)
        holding = self._message(customer, "outbound", HOLDING, answered, status="delivered")
        holding.is_automatic = True
        holding.raw_payload = {"demo": True, REPLY_KIND_KEY: HANDOVER}
        return [question, holding]

    def _message(self, customer, direction, body, at, status="received"):
        return Interaction(
            customer=customer,
            channel=customer.preferred_channel,
            direction=direction,
            body=body,
            provider="twilio" if customer.preferred_channel == "sms" else "meta",
            status=status,
            occurred_at=at,
            raw_payload={"demo": True},
        )

    def _orders(self, shop, customer, rng, now):
        if not customer.first_contact_at or rng.random() < 0.35:
            return []
        orders = []
        # Spread between the first contact and yesterday: capping "first contact + up to 200 days" at now
        # dated every recent customer's orders at the very second of seeding.
        span = max((now - timedelta(days=1) - customer.first_contact_at).total_seconds(), 0)
        for n in range(rng.choice([1, 1, 2, 3, 5, 8])):
            placed = customer.first_contact_at + timedelta(seconds=rng.uniform(0, span))
            orders.append(
                Order(
                    shop=shop,
                    customer=customer,
                    reference=f"MC-{customer.pk:05d}-{n + 1}",
                    amount=Decimal(rng.choice([49, 69, 89, 120, 159, 240, 390])) + Decimal("0.90"),
                    placed_at=placed,
                )
            )
        return orders
