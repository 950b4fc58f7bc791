"""The schedule form: a job spec (re-encryption, scan or client-side master key rotation) with a name and a
crontab or an interval. The shape of the input only: the timing's rules are the services'."""

from django import forms

from cloud import sse
from encryption.models import MasterKey
from jobs.forms.jobs import JobForm, SpecForm, prefix_lines
from jobs.models import Job, JobSpec


class ScheduleForm(JobForm):
    """A schedule: a job spec (re-encryption or scan) with a name and a crontab or an interval."""

    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "Nightly: encrypt new objects under logs/"})
    )
    schedule_kind = forms.ChoiceField(
        label="Each run", choices=JobSpec.KINDS[::-1], initial=Job.REENCRYPT, widget=forms.RadioSelect
    )
    crontab = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "0 2 * * *", "spellcheck": "false"}),
        help_text="minute hour day-of-month month day-of-week, e.g. 0 2 * * * for every night at 02:00.",
    )
    interval_minutes = forms.IntegerField(
        label="Or every … minutes", min_value=1, required=False, help_text="Give a crontab or an interval, not both."
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
                **{name: data[name] for name in self.limit_fields},
                **{name: data[name] for name in self.report_fields},
            }
        fields = super().spec_fields(target)
        if self.kind == Job.SCAN:
            fields |= {"select": Job.SELECT_ALL, "select_key_id": "", "select_algorithm": ""}
        return fields

    def timing(self) -> dict:
        data = self.cleaned_data
        return {
            "crontab": data["crontab"],
            "interval_minutes": data["interval_minutes"],
            "enabled": data["enabled"],
            "name": data["name"],
        }

    @staticmethod
    def initial_from_schedule(schedule) -> dict:
        initial = SpecForm.initial_from_spec(schedule)
        initial |= {"select": schedule.select, "min_size": schedule.min_size, "max_size": schedule.max_size}
        initial |= {"name": schedule.name, "schedule_kind": schedule.kind, "crontab": schedule.crontab}
        initial |= {"interval_minutes": schedule.interval_minutes, "enabled": schedule.enabled}
        initial |= {"rewrap_from": schedule.rewrap_from_id, "rewrap_to": schedule.rewrap_to_id}
        if schedule.kind == Job.SCAN:
            initial["select"] = Job.SELECT_NOT_MATCHING
        return initial
