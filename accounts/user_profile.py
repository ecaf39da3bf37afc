"""A user's Wagtail profile (``user.wagtail_userprofile``) read through a kept statement.

Every admin page reads the signed-in user's profile: Wagtail's admin-access wrapper
(``get_localized_response``) takes the preferred language and time zone from it
before the view runs. Django's reverse one-to-one descriptor builds and compiles
``UserProfile._base_manager.filter(user__id=…)`` with ``get``'s limit for each read
(~1k Python calls). ``KeptProfileDescriptor`` runs that same statement, compiled
once per database alias (``portal.sql.KeptStatement``: the same SQL, the same
parameter), on the database Django's query would read (the router, given the user as
the hint), and leaves what Django's ``__get__`` leaves: the profile or None in the
user's related-object cache and the user in the profile's. Everything else (a
profile already read or set, a user without a primary key) is Django's own
``__get__``. Nothing is kept between reads: each request's user reads its profile
again, so a language or time zone changed in the profile applies at the next page.
"""

from django.db import router
from django.db.models.fields.related_descriptors import ReverseOneToOneDescriptor
from django.db.models.query import MAX_GET_RESULTS

from portal.sql import KeptStatement

ACCESSOR = "wagtail_userprofile"


def _profile_of(model):
    # what ``ReverseOneToOneDescriptor.__get__`` asks: ``get(**filter_args)`` on the
    # base manager, ordering cleared, at most MAX_GET_RESULTS rows
    def build(pk):
        return model._base_manager.filter(user__id=pk).order_by()[:MAX_GET_RESULTS]

    return build


class KeptProfileDescriptor(ReverseOneToOneDescriptor):
    """Django's descriptor with the read through a kept statement (see above)."""

    def __init__(self, related):
        super().__init__(related)
        # a read by a unique key: prepared on the server once per connection
        self.statement = KeptStatement(
            _profile_of(related.related_model), ("pk",), prepare=True
        )

    def __get__(self, instance, cls=None):
        if (
            instance is not None
            and not self.related.is_cached(instance)
            and instance._is_pk_set()
        ):
            self._read(instance)
        return super().__get__(instance, cls)

    def _read(self, instance) -> None:
        model = self.related.related_model
        (value,) = self.related.field.get_forward_related_filter(instance).values()
        using = router.db_for_read(model, instance=instance)
        found = self.statement.instances(using, pk=value)
        if len(found) > 1:  # as ``QuerySet.get`` says it (a unique column: never)
            raise model.MultipleObjectsReturned(
                f"get() returned more than one {model._meta.object_name} -- it "
                f"returned {len(found) if len(found) < MAX_GET_RESULTS else 'more than 20'}!"
            )
        profile = found[0] if found else None
        if profile is not None:
            self.related.field.set_cached_value(profile, instance)
        self.related.set_cached_value(instance, profile)


def install(user_model) -> None:
    """Put the descriptor in place of Django's on ``user_model`` (``AccountsConfig.
    ready``), once, where the accessor is Django's plain reverse one-to-one one."""
    current = user_model.__dict__.get(ACCESSOR)
    if type(current) is ReverseOneToOneDescriptor:
        kept = KeptProfileDescriptor(current.related)
        # the same exception class as before (a cached property per descriptor)
        kept.__dict__["RelatedObjectDoesNotExist"] = current.RelatedObjectDoesNotExist
        setattr(user_model, ACCESSOR, kept)
