"""The permission check of every page: Django's permission_required(..., raise_exception=True), whose refusal
carries the permissions that were missing so the 403 page (console.views.permission_denied) can name the role
they belong to. It imports no app, so every app's views may use it, the audit log's included."""

from functools import wraps

from django.core.exceptions import PermissionDenied


class MissingPermissions(PermissionDenied):
    def __init__(self, permissions):
        super().__init__("Your role does not allow this page or action.")
        self.permissions = tuple(permissions)


def permission_required(*permissions: str):
    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perms(permissions):
                raise MissingPermissions(permissions)
            return view(request, *args, **kwargs)

        return checked

    return decorator
