"""factory_boy factories for the helpdesk. Tickets are made through
``services.create_ticket`` so their object permissions are granted as in real life.

Other apps' tests may use them::

    from tickets.tests.factories import TicketFactory, make_agent, make_customer
"""

import factory
from django.contrib.auth.models import Group

from accounts import roles
from accounts.models import Membership, Organization, TicketSharing, User
from accounts.services import create_organization, setup_member
from tickets import services
from tickets.models import CannedResponse, Queue, SLAPolicy

PASSWORD = "correct-horse-battery"


def role_group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, password=PASSWORD, **kwargs)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(role_group(name))
            if name in roles.STAFF_ROLES and not self.is_staff:
                self.is_staff = True
                self.save(update_fields=["is_staff"])


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Queue agents {n}")


class SLAPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    agent_group = factory.SubFactory(GroupFactory)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    ticket_sharing = TicketSharing.NONE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return create_organization(**kwargs)


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse

    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Hello {{ requester_name }}, about {{ ticket_reference }}. {{ agent_name }}"


def make_customer(organization=None, *, role=Membership.Role.MEMBER, **kwargs) -> User:
    user = UserFactory(roles=[roles.CUSTOMERS], **kwargs)
    if organization is not None:
        setup_member(organization, user, role)
    return user


def make_agent(*queues, **kwargs) -> User:
    user = UserFactory(roles=[roles.AGENTS], **kwargs)
    for queue in queues:
        user.groups.add(queue.agent_group)
    return user


def make_supervisor(**kwargs) -> User:
    return UserFactory(roles=[roles.SUPERVISORS], **kwargs)


def make_viewer(**kwargs) -> User:
    return UserFactory(roles=[roles.VIEWERS], **kwargs)


class TicketFactory(factory.Factory):
    """``TicketFactory(requester=alice, queue=q, organization=acme)``; extra
    ``actor=agent`` files it on the requester's behalf."""

    class Meta:
        model = dict  # built through the service, see _create

    requester = factory.LazyFunction(make_customer)
    queue = factory.SubFactory(QueueFactory)
    subject = factory.Sequence(lambda n: f"Sync stopped on laptop {n}")
    description = "Lumen stopped syncing after the last update."
    priority = "medium"
    category = "technical"
    organization = None
    source = "portal"
    attachments = ()
    actor = None

    @classmethod
    def _create(cls, model_class, *, actor=None, requester=None, **kwargs):
        return services.create_ticket(actor or requester, requester=requester, **kwargs)

    _build = _create


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG (grey pixels), made without Pillow."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
