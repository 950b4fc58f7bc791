"""How the OpenAPI schema is generated (DEFAULT_SCHEMA_CLASS): drf-spectacular's, reading our permission tables."""

from drf_spectacular.openapi import AutoSchema

from console.api.permissions import PUBLIC, action_of


class ActionPermissionsSchema(AutoSchema):
    """An operation the view's `action_permissions` leaves open to anyone says so in its security: no sign-in ({})."""

    def get_auth(self):
        auths = super().get_auth()
        table = getattr(self.view, "action_permissions", {})
        if table.get(action_of(self.view, self.method)) is PUBLIC:
            auths.append({})
        return auths
