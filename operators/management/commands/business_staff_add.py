"""Make an existing user one business's admin or its own compliance officer:
``manage.py business_staff_add ada alpha-bank --role business_admins``."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Business
from accounts.services import STAFF_ROLES, business_staff_add


class Command(BaseCommand):
    help = "Link a user to one business as its business admin or its compliance officer (the admin then shows that business only)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("business_slug")
        parser.add_argument("--role", choices=STAFF_ROLES, required=True)

    def handle(self, *args, username, business_slug, role, **options):
        user = get_user_model().objects.filter(username=username).first()
        business = Business.objects.filter(slug=business_slug).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if business is None:
            raise CommandError(f"No business with the slug {business_slug!r}.")
        try:
            business_staff_add(user=user, business=business, role=role)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"{username} is now {role} of {business.name}.")
