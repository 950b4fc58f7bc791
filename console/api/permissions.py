"""Who may call what in the API: every view maps each of its actions to the permissions it needs, in one table.

A view's `action_permissions` names, for each action it serves, the permissions the caller's role must hold
(accounts/roles.py hands them out). A viewset's actions are its own (list, retrieve, create, update,
partial_update, destroy and its @actions); a plain APIView's are its handlers (get, post). An action missing from
the table is refused, so a new one stays closed until someone decides who may call it.

Anonymous callers get 401 (except at `PUBLIC` actions), callers whose role lacks a permission 403, and a method
the route does not serve 405 whoever asks. A 403's detail names the role the action needs and the caller's
("This action needs the Operator role; you are a Viewer."). A session whose password was generated for it
(accounts.PasswordChangeDue) gets 403 everywhere but at views marked `open_while_password_change_due`; API
tokens are not held back, since only a chosen password or the operator at the command line issues them.
"""

from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication

from accounts import services as accounts
from accounts.permissions import refusal

# Any signed-in user, whatever their role: no permission needed beyond being someone.
SIGNED_IN: list[str] = []
# Anyone, signed in or not: only the door where a password is exchanged for a token.
PUBLIC = object()


def action_of(view, method: str) -> str | None:
    """The action a request method calls on the view; None when the route does not serve the method."""
    method = "get" if method.lower() == "head" else method.lower()
    served = getattr(view, "action_map", None)  # a viewset's route: method -> action
    if served is not None:
        return served.get(method)
    return method if method != "options" and hasattr(view, method) else None


def actions_of_route(view) -> set[str]:
    served = getattr(view, "action_map", None)
    if served is not None:
        return set(served.values())
    return {method for method in view.http_method_names if action_of(view, method) == method}


class ActionPermissions(permissions.BasePermission):
    """The one permission check of the API (DEFAULT_PERMISSION_CLASSES): the view's `action_permissions` table."""

    def has_permission(self, request, view):
        if _session_owes_password_change(request) and not getattr(view, "open_while_password_change_due", False):
            self.message = accounts.PASSWORD_CHANGE_REQUIRED
            return False
        table = getattr(view, "action_permissions", {})
        if request.method == "OPTIONS":
            # A route is described to whoever may call one of its actions.
            return any(_allows(request, table.get(action)) for action in actions_of_route(view))
        action = action_of(view, request.method)
        if action is None:
            # The view answers 405; a route closed to anonymous callers tells them 401 first.
            return _signed_in(request) or PUBLIC in table.values()
        needed = table.get(action)
        allowed = _allows(request, needed)
        if not allowed and needed not in (None, PUBLIC) and _signed_in(request):
            self.message = refusal(request.user, needed, what="action")
        return allowed


def _session_owes_password_change(request) -> bool:
    return isinstance(request.successful_authenticator, SessionAuthentication) and (
        accounts.password_change_required(request.user)
    )


def _signed_in(request) -> bool:
    return bool(request.user and request.user.is_authenticated)


def _allows(request, needed) -> bool:
    if needed is PUBLIC:
        return True
    return needed is not None and _signed_in(request) and request.user.has_perms(needed)
