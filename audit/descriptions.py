"""What the audit log says of an event, in words: a label for each action and the change in one line.

One home for the page, the CSV export and the API. The raw before/after stay on the event; these only read them.
"""

import json

from cloud.sse import Sse

# Grouped by area for the action chooser; an area's code prefix (ending in ".") selects all of its actions.
ACTION_GROUPS = {
    ("bucket.", "Buckets"): {
        "bucket.create": "Bucket created",
        "bucket.encryption.put": "Bucket default encryption set",
        "bucket.encryption.delete": "Bucket default encryption removed",
        "bucket.lifecycle.expire-noncurrent": "Bucket older versions set to expire (lifecycle rule)",
        "bucket.lifecycle.remove-expiry": "Bucket rule expiring older versions removed",
    },
    ("object.", "Objects"): {
        "object.upload": "Object uploaded",
        "object.upload.cse": "Object uploaded with client-side encryption",
        "object.download.decrypted": "Object downloaded decrypted",
        "object.encryption.change": "Object encryption changed",
    },
    ("connection.", "Connections"): {
        "connection.create": "Connection added",
        "connection.update": "Connection changed",
        "connection.delete": "Connection removed",
    },
    ("key.", "CMKs"): {
        "key.create": "CMK created",
        "key.enable": "CMK enabled",
        "key.disable": "CMK disabled",
        "key.rotate": "CMK rotated",
        "key.alias.add": "CMK alias added",
        "key.alias.remove": "CMK alias removed",
        "key.deletion.schedule": "CMK deletion scheduled",
        "key.deletion.cancel": "CMK deletion cancelled",
        "key.import_material": "CMK material imported",
    },
    ("cse.", "Client-side master keys"): {
        "cse.masterkey.create": "Master key created",
        "cse.masterkey.import": "Master key imported",
        "cse.masterkey.delete": "Master key deleted",
    },
    ("job.", "Jobs"): {
        "job.start": "Re-encryption job started",
        "job.dry-run": "Dry run started",
        "job.pause": "Job paused",
        "job.resume": "Job resumed",
        "job.cancel": "Job cancelled",
        "job.finish": "Job finished",
    },
    ("scan.", "Scans"): {"scan.start": "Scan started", "scan.finish": "Scan finished"},
    ("rewrap.", "Rewraps"): {"rewrap.start": "Rewrap job started"},
    ("schedule.", "Schedules"): {
        "schedule.create": "Schedule created",
        "schedule.update": "Schedule changed",
        "schedule.delete": "Schedule deleted",
        "schedule.skip": "Scheduled run skipped",
    },
    ("user.", "Users"): {
        "user.create": "User created",
        "user.role": "Role changed",
        "user.activate": "User activated",
        "user.deactivate": "User deactivated",
        "user.lockout": "Account locked after failed sign-ins",
        "user.unlock": "Account unlocked",
        "user.password_change": "Password changed",
        "user.password_reset": "Password reset by an Admin",
        "user.two_factor_enrol": "Two-factor sign-in turned on",
        "user.two_factor_disable": "Two-factor sign-in turned off",
        "user.two_factor_reset": "Two-factor sign-in reset by an Admin",
        "user.two_factor_code": "Sign-in code",
        "user.two_factor_recovery_code": "Recovery code used",
    },
    ("client.", "Client addresses"): {"client.lockout": "Address locked after failed sign-ins"},
    ("token.", "API tokens"): {"token.create": "API token created", "token.revoke": "API token revoked"},
    ("upload.", "Uploads"): {"upload.sweep": "Abandoned uploads removed"},
    ("demo.", "Demo"): {"demo.seed": "Demo data created"},
    ("rootkey.", "Root key"): {
        "rootkey.rotate": "Stored secrets re-sealed under a new root key",
        "rootkey.adopt": "Root key adopted after the stored secrets' key was lost",
    },
}
ACTION_LABELS = {code: label for actions in ACTION_GROUPS.values() for code, label in actions.items()}


def action_choices() -> list:
    """The action chooser: per area, "any" of it first, then its actions by label."""
    return [
        (area, [(prefix, f"Any {area.lower()} action"), *sorted(actions.items(), key=lambda item: item[1])])
        for (prefix, area), actions in ACTION_GROUPS.items()
    ]


def action_label(code: str) -> str:
    """The label of an action; an action without one (an old or new code) reads as its code in words."""
    return ACTION_LABELS.get(code) or code.replace(".", " ").replace("_", " ").capitalize()


FIELD_NAMES = {
    "sse": "encryption",
    "change_required": "password change required",
    "two_factor": "two-factor sign-in",
    "locked_until": "locked until",
    "secret_changed": "secret changed",
    "key_id": "key",
}
SSE_FIELDS = {"method", "algorithm", "key_id"}


def change_line(event) -> str:
    """The event's change in one line: "Default encryption of bucket demo-logs: None → OSS-managed SM4",
    "Role of user bob: Viewer → Operator", "State of job #3: running → paused"; "" when it recorded none."""
    before, after = event.before, event.after
    if before is None and after is None:
        return ""
    subject = _subject(event)
    if _is_sse(before) or _is_sse(after):
        if after is None:
            return f"Default encryption of {subject}: {_sse_label(before)}, unchanged"
        return f"Default encryption of {subject}: {_value(before)} → {_sse_label(after)}"
    if not isinstance(before, dict) and before is not None or not isinstance(after, dict) and after is not None:
        return f"{subject}: {_value(before)} → {_value(after)}"
    if before is None:
        return f"{_capitalized(subject)}: {_facts(after)}"
    if after is None:
        return f"{_capitalized(subject)}, before: {_facts(before)}"
    changes = [(name, before.get(name), after.get(name)) for name in _names(before, after)]
    changes = [(name, old, new) for name, old, new in changes if old != new]
    if not changes:
        return f"{_capitalized(subject)}: unchanged"
    if len(changes) == 1:
        name, old, new = changes[0]
        return f"{_capitalized(_field(name))} of {subject}: {_value(old)} → {_value(new)}"
    parts = "; ".join(f"{_field(name)} {_value(old)} → {_value(new)}" for name, old, new in changes)
    return f"{_capitalized(subject)}: {parts}"


def _subject(event) -> str:
    """What the event changed, as the log reads it: KMS keys by alias when the event names one."""
    if event.object_key:
        return f"object {event.object_key} in bucket {event.bucket}"
    if event.bucket:
        return f"bucket {event.bucket}"
    target = event.target
    if target.startswith("job:"):
        return f"job #{target.removeprefix('job:')}"
    if event.action.startswith("key.") and target:
        alias = _alias_of(event)
        return f"key {alias}({target})" if alias else f"key {target}"
    if event.action.startswith(("user.", "token.")) and target:
        return f"user {target}"
    if target:
        return target
    if event.connection_name:
        return f"connection {event.connection_name}"
    return "the console"


def _alias_of(event) -> str:
    for snapshot in (event.after, event.before):
        if isinstance(snapshot, dict) and snapshot.get("aliases"):
            return snapshot["aliases"][0]
    return ""


def _is_sse(value) -> bool:
    return isinstance(value, dict) and SSE_FIELDS <= value.keys()


def _sse_label(value: dict) -> str:
    """The label recorded with the setting (KMS keys by alias, as known then), else one made from it."""
    if value.get("label"):
        return value["label"]
    return Sse(value["method"], value["algorithm"], value["key_id"]).label()


def _names(before: dict, after: dict) -> list[str]:
    return [*before, *(name for name in after if name not in before)]


def _field(name: str) -> str:
    return FIELD_NAMES.get(name, name.replace("_", " "))


def _facts(values: dict) -> str:
    return ", ".join(f"{_field(name)} {_value(value)}" for name, value in values.items()) or "nothing"


def _value(value) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_sse(value):
        return _sse_label(value)
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value) or "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
