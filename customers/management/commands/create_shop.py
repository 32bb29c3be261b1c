import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from customers.models import ChannelAddress, Membership, Shop
from customers.phones import InvalidChannelAddress, normalize_channel_address
from customers.services import membership_add, shop_create

TWILIO, META = ChannelAddress.Provider.TWILIO, ChannelAddress.Provider.META


class Command(BaseCommand):
    help = "Create a shop (a tenant), optionally with its channel addresses and its owner's account."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", required=True, help="ISO code used to read local numbers, e.g. FR")
        parser.add_argument("--language", default="fr")
        parser.add_argument("--time-zone", default="Europe/Paris")
        parser.add_argument("--twilio-number", action="append", default=[], help="repeat for several numbers")
        parser.add_argument("--whatsapp-phone-number-id", default="")
        parser.add_argument("--owner", help="username of the owner (created if it does not exist)")
        parser.add_argument("--owner-email", default="")

    def handle(self, *args, **opts):
        country = opts["country"].upper()
        if len(country) != 2 or not country.isalpha():
            raise CommandError("--country takes a two-letter ISO code such as FR.")
        addresses = [self._address("--twilio-number", TWILIO, raw, country) for raw in opts["twilio_number"]]
        if opts["whatsapp_phone_number_id"]:
            raw = opts["whatsapp_phone_number_id"]
            addresses.append(self._address("--whatsapp-phone-number-id", META, raw, country))
        addresses = list(dict.fromkeys(addresses))  # one number given twice, in two spellings
        for provider, address in addresses:
            taken = (
                ChannelAddress.objects.filter(provider=provider, address=address)
                .select_related("shop")
                .first()
            )
            if taken:
                raise CommandError(f"{address} already receives messages for shop “{taken.shop.slug}”.")
        if opts["owner_email"]:
            try:
                validate_email(opts["owner_email"])
            except ValidationError:
                raise CommandError(f"“{opts['owner_email']}” is not a valid e-mail address.") from None
        with transaction.atomic():
            shop = shop_create(
                name=opts["name"], country=country, language=opts["language"], time_zone=opts["time_zone"]
            )
            for provider, address in addresses:
                ChannelAddress.objects.create(shop=shop, provider=provider, address=address)
            if opts["owner"]:
                self._owner(shop, opts["owner"], opts["owner_email"])
        self.stdout.write(shop.slug)

    def _address(self, option, provider, raw, country):
        # The spelling ChannelAddress stores, so that the "already used" check below compares like with like.
        try:
            return provider, normalize_channel_address(provider, raw, country)
        except InvalidChannelAddress as exc:
            raise CommandError(f"{option}: {exc}") from None

    def _owner(self, shop: Shop, username: str, email: str):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, email=email, password=password)
            self.stderr.write(
                f"Created user “{username}” with password {password}\n"
                "Sign in at /admin/ and change it (or run: manage.py changepassword " + username + ")."
            )
        membership_add(shop=shop, user=user, role=Membership.Role.OWNER)
