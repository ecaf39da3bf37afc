"""``manage.py create_api_token EMAIL --scopes read,write [--name N] [--expires-days D]``.

The secret is printed on the last line, alone, so scripts can take it with ``tail -1``.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.tokens import TokenError, create_token


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret (on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--scopes", default="read", help="read, write or read,write"
        )
        parser.add_argument("--name", default="CLI token")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args, email, scopes, name, expires_days, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email address {email!r}.")
        try:
            new = create_token(
                user, name=name, scopes=scopes, expires_days=expires_days
            )
        except TokenError as error:
            raise CommandError(str(error)) from error
        token = new.token
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        self.stdout.write(
            f"Token {token.name!r} for {user.email} (scopes {','.join(token.scopes)}, "
            f"expires {expiry}). The secret is shown once:"
        )
        self.stdout.write(new.secret)
