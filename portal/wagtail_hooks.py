from wagtail import hooks

from portal.avatars import avatar_url

hooks.register("get_avatar_url", avatar_url)
