"""Model fields whose values are encrypted at rest with the key ring.

``EncryptedTextField`` stores ``enc:v1:<key id>:<base64 nonce+ciphertext+tag>``
(AES-256-GCM under the ring's current key, the model's label bound as AAD) and gives
back the plain string. Values written before encryption (no ``enc:v1:`` prefix) read as
they are, so a data migration can encrypt them in place. Equal plaintexts encrypt
differently: filter on these columns does not work, by design.
"""

import base64

from django.db import models

from .keyring import KeyRingError, encryption_enabled, keyring

PREFIX = "enc:v1:"


def _purpose(label: str) -> bytes:
    return b"field:" + label.encode()


def encrypt_value(value: str, label: str, ring=None) -> str:
    key_id, wrapped = (ring or keyring()).wrap(value.encode(), purpose=_purpose(label))
    return f"{PREFIX}{key_id}:{base64.b64encode(wrapped).decode()}"


def decrypt_value(value: str, label: str, ring=None) -> str:
    if not is_encrypted(value):
        return value
    key_id, _sep, encoded = value[len(PREFIX) :].partition(":")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as error:
        raise KeyRingError("An encrypted field value is not valid base64.") from error
    return (ring or keyring()).unwrap(key_id, raw, purpose=_purpose(label)).decode()


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    if not is_encrypted(value):
        return None
    return value[len(PREFIX) :].partition(":")[0]


class EncryptedTextField(models.TextField):
    """A secret stored encrypted (see module docstring); ``max_length`` only limits the
    plaintext in forms.

    ``label`` fixes the AAD for a model that moved to another app (its stored values
    were bound to the old ``app_label.model.field``); by default it follows the model.
    """

    def __init__(self, *args, label: str | None = None, **kwargs):
        self.label = label
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.label is not None:
            kwargs["label"] = self.label
        return name, path, args, kwargs

    def _label(self) -> str:
        if self.label is not None:
            return self.label
        return f"{self.model._meta.app_label}.{self.model._meta.model_name}.{self.name}"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt_value(value, self._label())

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or is_encrypted(value):
            return value
        if not encryption_enabled():
            return value
        return encrypt_value(value, self._label())


def encrypted_fields():
    """Every ``(model, field)`` pair with an ``EncryptedTextField`` in the project."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def reencrypt_all(ring=None) -> int:
    """Encrypt plaintext values and re-encrypt those under an older key with the ring's
    current key; returns how many values changed. Used by ``rotate_attachment_keys``."""
    from django.db.models.functions import Cast

    ring = ring or keyring()
    changed = 0
    for model, field in encrypted_fields():
        rows = model._base_manager.annotate(
            _raw=Cast(field.attname, output_field=models.TextField())
        ).values_list("pk", "_raw")
        for pk, raw in rows:
            if not raw or key_id_of(raw) == ring.current_id:
                continue
            plain = decrypt_value(raw, field._label(), ring)
            model._base_manager.filter(pk=pk).update(
                **{field.attname: encrypt_value(plain, field._label(), ring)}
            )
            changed += 1
    return changed
