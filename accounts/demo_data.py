"""Demo accounts (CONTRACT.md): verified, no MFA, password from DEMO_PASSWORD."""

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _

from portal.demo import DemoContext

from . import roles
from .models import Organization, TicketSharing, User
from .services import create_organization, setup_member

STAFF = [
    ("admin@example.com", "Ada Admin", None),
    ("editor@example.com", "Eddie Editor", roles.EDITORS),
    ("supervisor@example.com", "Sam Supervisor", roles.SUPERVISORS),
    ("agent@example.com", "Alex Agent", roles.AGENTS),
    ("billing.agent@example.com", "Bianca Billing", roles.AGENTS),
    ("viewer@example.com", "Vera Viewer", roles.VIEWERS),
]
ORGANIZATIONS = [
    ("Acme", "acme", ["acme.example"], TicketSharing.READ_WRITE),
    ("Globex", "globex", ["globex.example"], TicketSharing.NONE),
]
CUSTOMERS = [
    ("alice@acme.example", "Alice Anders", "acme", "manager"),
    ("bob@acme.example", "Bob Brown", "acme", "member"),
    ("carol@globex.example", "Carol Chen", "globex", "manager"),
]

# One demo customer reads the portal in Polish and one in Russian (their pages and
# emails follow the profile language; sign in as them to see it).
LOCALES = {"bob@acme.example": "pl", "carol@globex.example": "ru"}


def _user(context: DemoContext, email: str, name: str, *, superuser=False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        maker = User.objects.create_superuser if superuser else User.objects.create_user
        user = maker(email=email, password=context.password, display_name=name)
    else:
        user.set_password(context.password)
        user.display_name = name
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def load(context: DemoContext) -> None:
    users = {}
    for email, name, role in STAFF:
        user = _user(context, email, name, superuser=role is None)
        if role:
            user.groups.add(Group.objects.get(name=role))
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        users[email] = user
    organizations = {}
    for name, slug, domains, sharing in ORGANIZATIONS:
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            org = create_organization(
                name=name, slug=slug, email_domains=domains, ticket_sharing=sharing
            )
        organizations[slug] = org
    customers_group = Group.objects.get(name=roles.CUSTOMERS)
    for email, name, slug, role in CUSTOMERS:
        user = _user(context, email, name)
        if user.locale != LOCALES.get(email, ""):
            user.locale = LOCALES.get(email, "")
            user.save(update_fields=["locale"])
        user.groups.add(customers_group)
        setup_member(organizations[slug], user, role)
        users[email] = user
    context.objects["users"] = users
    context.objects["organizations"] = organizations
    # For the summary: each account with its role, as ``load_demo`` prints it.
    context.objects["accounts"] = [
        (email, _(role) if role else _("administrator (superuser)"))
        for email, _name, role in STAFF
    ] + [
        (
            email,
            _("customer, %(role)s at %(organization)s")
            % {"role": _(role), "organization": organizations[slug].name},
        )
        for email, _name, slug, role in CUSTOMERS
    ]
    context.log(_("%(count)d demo accounts") % {"count": len(users)})
