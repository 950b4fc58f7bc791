"""How pages write a moment: "2026-12-03 15:04:05 UTC", in the console's TIME_ZONE with the zone's name, so a
time read off a page says which clock it is on. The `moment` template filter (console_extras) uses it."""

from datetime import datetime

from django.utils import timezone


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()
