"""Schedule timings as people say them: presets to crontabs, `@weekly` to its five fields, and any crontab or
interval back to a sentence ("Every Monday at 02:00 UTC"). Pure functions, the one home of these rules: the
schedule form, the services, the list page and the API all come here.

The sentences are hand-written for the shapes the presets produce and a few common ones; anything else is
shown verbatim ("Crontab 5,35 1-3 * * * (UTC)"), never guessed at.
"""

from __future__ import annotations

import re

DAILY, WEEKLY, MONTHLY, CRONTAB, INTERVAL = "daily", "weekly", "monthly", "crontab", "interval"
FREQUENCIES = [
    (DAILY, "Daily"),
    (WEEKLY, "Weekly"),
    (MONTHLY, "Monthly"),
    (CRONTAB, "Crontab (experts)"),
    (INTERVAL, "Every … minutes"),
]
# Crontab day-of-week numbers (0 and 7 are both Sunday).
WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("0", "Sunday"),
]
ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_NUMBER = re.compile(r"\d{1,2}")
_EVERY = re.compile(r"\*/(\d{1,2})")


def expand(crontab: str) -> str:
    """The five fields of a crontab, `@daily` and its kin spelled out; whitespace collapsed."""
    text = " ".join((crontab or "").split())
    return ALIASES.get(text.lower(), text)


def preset(frequency: str, hour: int, minute: int, weekday: str = "1", day: int = 1) -> str:
    """The crontab of a Daily, Weekly or Monthly preset at hour:minute."""
    if frequency == DAILY:
        return f"{minute} {hour} * * *"
    if frequency == WEEKLY:
        return f"{minute} {hour} * * {weekday}"
    if frequency == MONTHLY:
        return f"{minute} {hour} {day} * *"
    raise ValueError(f"{frequency!r} is not a preset")


def preset_of(crontab: str) -> dict | None:
    """The preset a crontab was made from (frequency, hour, minute, weekday, day), None if it is none of them."""
    fields = expand(crontab).split()
    if len(fields) != 5 or not all(_NUMBER.fullmatch(value) for value in fields[:2]) or fields[3] != "*":
        return None
    minute, hour, day, _, weekday = fields
    found = {"hour": int(hour), "minute": int(minute)}
    if day == "*" and weekday == "*":
        return {"frequency": DAILY, **found}
    if day == "*" and weekday in dict(WEEKDAYS) | {"7": "Sunday"}:
        return {"frequency": WEEKLY, "weekday": "0" if weekday == "7" else weekday, **found}
    if _NUMBER.fullmatch(day) and weekday == "*":
        return {"frequency": MONTHLY, "day": int(day), **found}
    return None


def describe(crontab: str = "", interval_minutes: int | None = None, timezone_name: str = "") -> str:
    """One sentence for a schedule's timing: 'Every Monday at 02:00 UTC', 'Every 30 minutes'."""
    if not crontab:
        return _describe_interval(interval_minutes)
    expanded = expand(crontab)
    zone = f" {timezone_name}" if timezone_name else ""
    return _describe_crontab(expanded, zone) or f"Crontab {expanded}{f' ({timezone_name})' if zone else ''}"


def _describe_interval(minutes: int | None) -> str:
    if not minutes:
        return "Never (no timing)"
    if minutes == 1:
        return "Every minute"
    if minutes % 1440 == 0:
        return "Every day" if minutes == 1440 else f"Every {minutes // 1440} days"
    if minutes % 60 == 0:
        return "Every hour" if minutes == 60 else f"Every {minutes // 60} hours"
    return f"Every {minutes} minutes"


def _describe_crontab(expanded: str, zone: str) -> str:
    fields = expanded.split()
    if len(fields) != 5:
        return ""
    minute, hour, day, month, weekday = fields
    if month != "*":
        return ""
    if hour == "*" and day == "*" and weekday == "*":
        return _describe_minutes(minute)
    if not (_NUMBER.fullmatch(minute) and _NUMBER.fullmatch(hour)):
        return ""
    at = f"at {int(hour):02d}:{int(minute):02d}{zone}"
    if day == "*" and weekday == "*":
        return f"Every day {at}"
    if day == "*":
        days = _weekdays(weekday)
        return f"Every {days} {at}" if days else ""
    if _NUMBER.fullmatch(day) and weekday == "*":
        return f"On day {int(day)} of every month {at}"
    return ""


def _describe_minutes(minute: str) -> str:
    if minute == "*":
        return "Every minute"
    if _NUMBER.fullmatch(minute):
        return f"Every hour at minute {int(minute):02d}"
    every = _EVERY.fullmatch(minute)
    if every:
        return f"Every {int(every.group(1))} minutes"
    return ""


def _weekdays(weekday: str) -> str:
    names = dict(WEEKDAYS) | {"7": "Sunday"}
    if weekday in names:
        return names[weekday]
    if weekday == "1-5":
        return "weekday (Monday to Friday)"
    if weekday in ("0,6", "6,0", "6,7", "6-7"):
        return "Saturday and Sunday"
    parts = weekday.split(",")
    if all(part in names for part in parts):
        return ", ".join(names[part] for part in parts[:-1]) + f" and {names[parts[-1]]}"
    return ""
