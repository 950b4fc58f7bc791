"""The three roles of design.md §8 as permission rules, so groups follow the models that exist.

A rule names whole apps and explicit permissions; permissions of apps added by later migrations
join the groups on the next migrate (see AccountsConfig.ready).
"""

from django.db.models import Q

VIEWER = "Viewer"
OPERATOR = "Operator"
ADMIN = "Admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
ROLE_CHOICES = [(role.lower(), role) for role in ROLES]

CONSOLE_APPS = ("accounts", "audit", "buckets", "encryption", "jobs")

# Seeing a secret is an Admin matter even though its codename starts with "view_".
SECRET_PERMISSIONS = {("buckets", "view_secret")}

VIEWER_EXTRA: set[tuple[str, str]] = set()
OPERATOR_EXTRA = {
    ("buckets", "change_encryption"),
    ("buckets", "upload_object"),
    ("buckets", "change_object"),
    ("buckets", "change_lifecycle"),
    ("jobs", "add_job"),
    ("jobs", "change_job"),
    ("jobs", "add_schedule"),
    ("jobs", "change_schedule"),
    ("jobs", "delete_schedule"),
}
ADMIN_EXTRA = {("auth", "view_user"), ("auth", "add_user"), ("auth", "change_user")}


def _pairs(pairs: set[tuple[str, str]]) -> Q:
    query = Q(pk__in=[])
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return query


def _not_secret() -> Q:
    return ~_pairs(SECRET_PERMISSIONS)


def role_permission_filter(role: str) -> Q:
    """The Permission rows a role holds, as a filter usable on live and historical models."""
    viewer = (Q(content_type__app_label__in=CONSOLE_APPS, codename__startswith="view_") & _not_secret()) | _pairs(
        VIEWER_EXTRA
    )
    if role == VIEWER:
        return viewer
    operator = viewer | _pairs(OPERATOR_EXTRA)
    if role == OPERATOR:
        return operator
    if role == ADMIN:
        return Q(content_type__app_label__in=CONSOLE_APPS) | _pairs(ADMIN_EXTRA)
    raise ValueError(f"unknown role {role!r}")


def sync_role_groups(group_model, permission_model) -> None:
    """Create the role groups and give each exactly the permissions its rule selects."""
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(permission_model.objects.filter(role_permission_filter(role)))


def least_role_holding(permissions) -> str | None:
    """The first role, from Viewer up, whose rule grants every one of `permissions` ("app_label.codename");
    None when no role does. Read from the rules themselves, so pages and API name the same role."""
    from django.contrib.auth.models import Permission  # roles.py is read before the apps are ready

    wanted = [permission.split(".", 1) for permission in permissions]
    for role in ROLES:
        held = set(
            Permission.objects.filter(role_permission_filter(role)).values_list("content_type__app_label", "codename")
        )
        if all(tuple(pair) in held for pair in wanted):
            return role
    return None
