"""Role-based API permissions, shared by every app's viewsets."""

from rest_framework import permissions


class RolePermissions(permissions.DjangoModelPermissions):
    """Model permissions of the user's role for every method, reads included (Viewer holds view_*).

    A custom action names its own permissions in the view's `action_permissions` table.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        custom = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if custom is not None:
            return request.user.has_perms(custom)
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        return super().has_permission(request, view)
