"""The console's main navigation: only pages that exist and that the user may open are shown."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None


NAVIGATION = (
    NavItem("Overview", "overview"),
    NavItem("Buckets", "buckets:bucket_list", "buckets.view_bucket"),
    NavItem("Keys", "encryption:key_list", "encryption.view_key"),
    NavItem("Jobs", "jobs:job_list", "jobs.view_job"),
    NavItem("Schedules", "jobs:schedule_list", "jobs.view_schedule"),
    NavItem("Audit log", "audit:event_list", "audit.view_auditevent"),
    NavItem("Connections", "buckets:connection_list", "buckets.view_connection"),
    NavItem("Users", "accounts:user_list", "auth.view_user"),
)


def _is_current(url: str, path: str) -> bool:
    return path == url or (url != "/" and path.startswith(url))


def visible_items(user, path: str) -> list[dict]:
    items = []
    for item in NAVIGATION:
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "current": _is_current(url, path)})
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or _held_at_a_step(request):
        return {"navigation": []}
    return {"navigation": visible_items(user, request.path)}


def _held_at_a_step(request) -> bool:
    """A session owing its second factor or a password change sees only that step's page: no menu to elsewhere."""
    return getattr(request, "owes_second_factor", False) or getattr(request, "owes_password_change", False)
