"""The words of a refusal: which role a page or API action needs and which one the user holds, for the 403 page
and the API's 403 detail alike."""

from accounts.roles import least_role_holding
from accounts.services import role_of


def refusal(user, permissions, *, what: str = "page") -> str:
    """'This page needs the Operator role; you are a Viewer.' for a user lacking `permissions`."""
    needed = least_role_holding(permissions)
    held = role_of(user)
    yours = f"you are {_article(held)} {held}" if held else "you hold no role"
    if needed is None:
        return f"No role may open this {what}; {yours}."
    return f"This {what} needs the {needed} role; {yours}."


def _article(role: str) -> str:
    return "an" if role[0] in "AEIOU" else "a"
