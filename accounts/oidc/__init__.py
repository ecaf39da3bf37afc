"""URLs of the OpenID Connect provider class ``accounts.oidc_tokens.Provider``
(allauth mounts ``<provider package>.urls``)."""
