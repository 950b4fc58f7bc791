"""The schedule form: a job spec (re-encryption, scan or client-side master key rotation) with a name, the
buckets it works on (one, every bucket of the connection, or a name pattern) and its timing: a Daily, Weekly or
Monthly preset at a time of day, a crontab for experts, or an interval; in a time zone. The shape of the input
only: the timing's rules are the services' and jobs.timing's."""

import datetime
import zoneinfo

from django import forms
from django.conf import settings

from cloud import sse
from encryption.models import MasterKey
from jobs import timing as timings
from jobs.forms.jobs import JobForm, SpecForm, prefix_lines
from jobs.models import Job, JobSpec, Schedule

PRESETS = (timings.DAILY, timings.WEEKLY, timings.MONTHLY)
PRESET_FIELDS = {"at_time": PRESETS, "weekday": (timings.WEEKLY,), "month_day": (timings.MONTHLY,)}


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones() | {settings.TIME_ZONE})]


class ScheduleForm(JobForm):
    """A schedule: a job spec (re-encryption or scan) with a name and a crontab or an interval."""

    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "Nightly: encrypt new objects under logs/"})
    )
    # Deleting older versions is typed in by hand for one job at a time, never left to a schedule.
    purge_history = None
    purge_confirmation = None
    schedule_kind = forms.ChoiceField(
        label="Each run", choices=JobSpec.KINDS[::-1], initial=Job.REENCRYPT, widget=forms.RadioSelect
    )
    scope = forms.ChoiceField(
        label="Buckets",
        choices=Schedule.SCOPES,
        initial=Schedule.ONE_BUCKET,
        widget=forms.RadioSelect,
        help_text="Every bucket or a pattern: each run lists the connection's buckets afresh and starts a sweep, "
        "a job per matching bucket.",
    )
    bucket_pattern = forms.CharField(
        label="Pattern",
        max_length=63,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "logs-*", "spellcheck": "false"}),
        help_text="With 'Buckets matching a pattern', of their names: * any characters, ? one, [abc] one of them.",
    )
    frequency = forms.ChoiceField(
        label="Runs", choices=timings.FREQUENCIES, initial=timings.DAILY, widget=forms.RadioSelect
    )
    at_time = forms.TimeField(
        label="At",
        required=False,
        initial=datetime.time(2, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Daily, weekly and monthly runs: the time of day, in the time zone below.",
        error_messages={"required": "Give the time of day the schedule runs at."},
    )
    weekday = forms.ChoiceField(
        label="On",
        choices=timings.WEEKDAYS,
        initial="1",
        required=False,
        error_messages={"required": "Give the day of the week the schedule runs on."},
    )
    month_day = forms.IntegerField(
        label="On day of the month",
        min_value=1,
        max_value=31,
        initial=1,
        required=False,
        help_text="Monthly runs; a month without that day is skipped.",
        error_messages={"required": "Give the day of the month the schedule runs on."},
    )
    timezone = forms.ChoiceField(
        label="Time zone", choices=timezone_choices, initial=settings.TIME_ZONE, help_text="Of the time and crontab."
    )
    crontab = forms.CharField(
        label="Crontab",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "0 2 * * *", "spellcheck": "false"}),
        help_text="With 'Crontab': minute hour day-of-month month day-of-week (0 2 * * 1: Mondays at 02:00), "
        "or @hourly, @daily, @weekly, @monthly.",
    )
    interval_minutes = forms.IntegerField(
        label="Minutes between runs", min_value=1, required=False, help_text="With 'Every … minutes'."
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="A disabled schedule does not run.")

    rewrap_from = forms.ModelChoiceField(
        label="Rotation: from master key",
        queryset=MasterKey.objects.order_by("name"),
        required=False,
        help_text="Only for a client-side master key rotation.",
    )
    rewrap_to = forms.ModelChoiceField(
        label="Rotation: to master key", queryset=MasterKey.objects.order_by("name"), required=False
    )

    field_order = ["name", "schedule_kind", "rewrap_from", "rewrap_to", *JobForm.field_order]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The bucket is required by the scope "One bucket" only, a preset's time and day by the presets that use
        # them: the other choices post none. An empty form shows them all without "(optional)".
        posted = self.data.get if self.is_bound else None
        self.fields["bucket"].required = posted is None or posted(self.add_prefix("scope")) == Schedule.ONE_BUCKET
        self.fields["bucket"].error_messages["required"] = "Choose the bucket this schedule works on."
        for name, frequencies in PRESET_FIELDS.items():
            self.fields[name].required = posted is None or posted(self.add_prefix("frequency")) in frequencies

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") != Schedule.ONE_BUCKET:
            cleaned["bucket"] = ""  # every bucket or a pattern: the bucket select is not used
        return cleaned

    def selects_by_key(self, cleaned: dict) -> bool:
        return cleaned.get("schedule_kind") == Job.REENCRYPT and super().selects_by_key(cleaned)

    def spec_fields(self, target: sse.Sse | None) -> dict:
        self.kind = self.cleaned_data["schedule_kind"]
        if self.kind == Job.REWRAP:
            # A rotation keeps each object's server-side encryption: no selection and no target apply.
            data = self.cleaned_data
            return {
                "kind": Job.REWRAP,
                "prefixes": prefix_lines(data["prefixes"]),
                "rewrap_from_id": data["rewrap_from"].pk if data["rewrap_from"] else None,
                "rewrap_to_id": data["rewrap_to"].pk if data["rewrap_to"] else None,
                "check_after_copy": data["check_after_copy"],
                **{name: data[name] for name in self.limit_fields},
                **{name: data[name] for name in self.report_fields},
            }
        fields = super().spec_fields(target)
        if self.kind == Job.SCAN:
            fields |= {"select": Job.SELECT_ALL, "select_key_id": "", "select_algorithm": ""}
        return fields

    def timing(self) -> dict:
        """What the schedule service takes beside the spec: name, buckets, timing and state. Only the fields of
        the chosen frequency count (without JavaScript every field is shown and posted)."""
        data = self.cleaned_data
        return {
            **chosen_timing(data),
            "timezone_name": data["timezone"],
            "scope": data["scope"],
            "bucket_pattern": data["bucket_pattern"] if data["scope"] == Schedule.BUCKET_PATTERN else "",
            "enabled": data["enabled"],
            "name": data["name"],
        }

    def timing_description(self) -> str:
        """The timing entered (or saved) in words, as the list will show it; "" while it is incomplete."""
        values = {name: self[name].value() for name in TIMING_FIELDS}
        field_types = {name: self.fields[name] for name in TIMING_FIELDS}
        try:
            cleaned = {name: field_types[name].clean(value) for name, value in values.items()}
            described = chosen_timing(cleaned)
        except (forms.ValidationError, KeyError, TypeError):
            return ""
        if not described["crontab"] and not described["interval_minutes"]:
            return ""
        zone = cleaned["timezone"] if described["crontab"] else ""
        return timings.describe(described["crontab"], described["interval_minutes"], zone)

    @staticmethod
    def initial_from_schedule(schedule) -> dict:
        initial = SpecForm.initial_from_spec(schedule)
        initial |= {"select": schedule.select, "min_size": schedule.min_size, "max_size": schedule.max_size}
        initial |= {"name": schedule.name, "schedule_kind": schedule.kind, "crontab": schedule.crontab}
        initial |= {"interval_minutes": schedule.interval_minutes, "enabled": schedule.enabled}
        initial |= {"scope": schedule.scope, "bucket_pattern": schedule.bucket_pattern, "timezone": schedule.timezone}
        initial |= initial_timing(schedule)
        initial |= {"rewrap_from": schedule.rewrap_from_id, "rewrap_to": schedule.rewrap_to_id}
        if schedule.kind == Job.SCAN:
            initial["select"] = Job.SELECT_NOT_MATCHING
        return initial


TIMING_FIELDS = ("frequency", "at_time", "weekday", "month_day", "crontab", "interval_minutes", "timezone")


def chosen_timing(data: dict) -> dict:
    """The crontab or interval the chosen frequency means; the other timing fields are ignored."""
    frequency = data["frequency"]
    if frequency in PRESETS:
        at = data["at_time"]
        crontab = timings.preset(frequency, at.hour, at.minute, data.get("weekday") or "1", data.get("month_day") or 1)
        return {"crontab": crontab, "interval_minutes": None}
    if frequency == timings.CRONTAB:
        return {"crontab": data["crontab"], "interval_minutes": None}
    return {"crontab": "", "interval_minutes": data["interval_minutes"]}


def initial_timing(schedule) -> dict:
    """A saved timing as the form shows it: the preset it matches, else the crontab or the interval."""
    if not schedule.crontab:
        return {"frequency": timings.INTERVAL}
    preset = timings.preset_of(schedule.crontab)
    if preset is None:
        return {"frequency": timings.CRONTAB}
    at = datetime.time(preset.pop("hour"), preset.pop("minute"))
    return {**preset, "month_day": preset.pop("day", 1), "at_time": at}
