"""Formatting helpers of the job pages: state badges, durations, what a spec does, the links that prefill a form
from a job, and the server-side SVG charts (stacked bars of encryption states, the compliance trend). No chart
library, no CDN: plain SVG the page carries."""

from __future__ import annotations

import datetime
import math
from urllib.parse import urlencode

from django import template
from django.template.defaultfilters import filesizeformat, pluralize

from buckets.models import Bucket
from cloud.sse import Sse
from jobs import selectors, timing
from jobs.engine.object_worker import ANY_ENCRYPTION
from jobs.forms.jobs import SPEC_QUERY_FIELDS, TARGET_QUERY_FIELDS
from jobs.models import Job, JobSpec, ObjectOutcome, ScheduleRun

register = template.Library()

STATE_CLASSES = {
    Job.COMPLETED: "ok",
    Job.COMPLETED_WITH_ERRORS: "warn",
    Job.FAILED: "bad",
    Job.PAUSED: "warn",
    Job.RUNNING: "info",
    Job.CANCELLED: "muted",
    Job.CANCELLING: "muted",
    Job.PENDING: "muted",
}
OUTCOME_CLASSES = {ObjectOutcome.FAILED: "bad", ObjectOutcome.SKIPPED: "muted", ObjectOutcome.NOT_MATCHING: "warn"}
RUN_CLASSES = {ScheduleRun.STARTED: "ok", ScheduleRun.SKIPPED: "muted", ScheduleRun.FAILED: "bad"}
MOSTLY_COMPLIANT_PERCENT = 90
# Okabe-Ito colours (told apart with most colour-vision deficiencies); "None" always gets the warning red.
PALETTE = ("#0072b2", "#009e73", "#56b4e9", "#cc79a7", "#e69f00", "#7a5c99", "#999999", "#004d40")
UNENCRYPTED_COLOUR = "#c0392b"
TREND_SLOTS = 12  # bars never get wider than a twelfth of the chart


@register.filter
def state_class(state: str) -> str:
    return STATE_CLASSES.get(state, "muted")


@register.filter
def outcome_class(outcome: str) -> str:
    return OUTCOME_CLASSES.get(outcome, "warn")


@register.filter
def run_class(outcome: str) -> str:
    return RUN_CLASSES.get(outcome, "bad")


@register.filter
def compliance_class(summary: selectors.ScanSummary) -> str:
    if summary.fully_compliant:
        return "ok"
    return "warn" if summary.compliant_percent >= MOSTLY_COMPLIANT_PERCENT else "bad"


@register.inclusion_tag("jobs/compliance_badge.html")
def compliance_badge(summary: selectors.ScanSummary, with_counts: bool = False):
    return {"summary": summary, "with_counts": with_counts}


@register.inclusion_tag("jobs/outdated_note.html", takes_context=True)
def outdated_note(context, summary: selectors.ScanSummary):
    perms = context.get("perms")
    return {"summary": summary, "scan_link": bool(perms and perms["jobs"]["add_job"])}


@register.filter
def duration(seconds: float | None) -> str:
    """Whole seconds as H:MM:SS, rounded up (a job never looks done before it is); "—" when unknown."""
    if seconds is None:
        return "—"
    return str(datetime.timedelta(seconds=math.ceil(seconds)))


@register.filter
def target_label(spec: JobSpec) -> str:
    if spec.targets_bucket_default:
        return "the bucket default"
    if getattr(spec, "resolved_label", ""):
        return spec.resolved_label  # a job's, with the key's alias
    return Sse(spec.target_method, spec.target_algorithm, spec.target_key_id).label()


@register.filter
def where_label(spec: JobSpec) -> str:
    if not spec.prefixes:
        return "in the whole bucket"
    return "under " + ", ".join(spec.prefixes)


@register.filter
def sizes_label(spec: JobSpec) -> str:
    if spec.min_size is not None and spec.max_size is not None:
        return f"from {spec.min_size} to {spec.max_size} bytes"
    if spec.min_size is not None:
        return f"of {spec.min_size} bytes or more"
    if spec.max_size is not None:
        return f"of at most {spec.max_size} bytes"
    return ""


@register.filter
def selection_label(spec: JobSpec) -> str:
    if spec.select == JobSpec.SELECT_KEY:
        return f"objects under KMS key {spec.select_key_id}"
    if spec.select == JobSpec.SELECT_ALGORITHM:
        return f"objects under {spec.select_algorithm}"
    if spec.select == JobSpec.SELECT_UNENCRYPTED:
        return "unencrypted objects"
    if spec.select == JobSpec.SELECT_ALL:
        return "all objects"
    return "objects not matching the target"


@register.filter
def describe_spec(spec: JobSpec) -> str:
    """One sentence: 'Re-encrypt unencrypted objects under logs/ to the bucket default'."""
    where = where_label(spec)
    if spec.kind == JobSpec.SCAN:
        return f"Scan the objects {where} against {target_label(spec)}"
    if spec.kind == JobSpec.REWRAP:
        source = spec.rewrap_from.name if spec.rewrap_from else "a deleted master key"
        target = spec.rewrap_to.name if spec.rewrap_to else "a deleted master key"
        return f"Move the client-side encrypted objects {where} from master key {source} to {target}"
    sizes = sizes_label(spec)
    return f"Re-encrypt {selection_label(spec)}{' ' + sizes if sizes else ''} {where} to {target_label(spec)}"


@register.filter
def timing_label(schedule) -> str:
    """'Every Monday at 02:00 UTC', 'Every 30 minutes' (jobs.timing.describe)."""
    return timing.describe(schedule.crontab, schedule.interval_minutes, schedule.timezone)


@register.filter
def targets_label(schedule) -> str:
    """The buckets a schedule works on: 'logs', 'every bucket', 'buckets matching logs-*'."""
    if schedule.scope == schedule.EVERY_BUCKET:
        return "every bucket"
    if schedule.scope == schedule.BUCKET_PATTERN:
        return f"buckets matching {schedule.bucket_pattern}"
    return schedule.bucket


@register.filter
def pct(value) -> str:
    """A share as the pages print it: one decimal, never '100.0%' for something short of everything."""
    if value is None:
        return "—"
    value = float(value)
    if 99.95 <= value < 100:
        return "99.9%"
    return f"{value:.1f}%"


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


@register.simple_tag
def history_sentence(summary: selectors.ScanSummary) -> str:
    """'1,204 of 1,210 noncurrent versions (3.2 GB) not as targeted (3.1 GB); by encryption: None 1,204 (3.1 GB),
    KMS AES256 alias/acs/oss(…) 6 (12.0 KB).'"""
    counted_by = f" (as scan #{summary.history_from.pk} counted them)" if summary.history_from else ""
    by_state = ", ".join(f"{label} {n:,} ({filesizeformat(b)})" for label, n, b in summary.history)
    kept = f"{_versions(summary.history_versions)} ({filesizeformat(summary.history_bytes)})"
    if not summary.exposed_versions:
        verdict = f"{kept}, all as targeted"
    elif summary.exposed_versions == summary.history_versions:
        verdict = f"{kept}, none as targeted"
    else:
        verdict = f"{summary.exposed_versions:,} of {kept} not as targeted ({filesizeformat(summary.exposed_bytes)})"
    return f"{verdict}{counted_by}; by encryption: {by_state}."


def _versions(count: int) -> str:
    return f"{count:,} noncurrent version{pluralize(count)}"


def state_colour(label: str, index: int) -> str:
    return UNENCRYPTED_COLOUR if label == "None" else PALETTE[index % len(PALETTE)]


def state_rows(summary: selectors.ScanSummary) -> list[dict]:
    """The encryption states of a scan with their colours and shares of objects and bytes."""
    rows, colour_index = [], 0
    for label, objects, size in summary.states:
        colour = state_colour(label, colour_index)
        colour_index += label != "None"
        rows.append(
            {
                "label": label,
                "objects": objects,
                "bytes": size,
                "colour": colour,
                "objects_percent": _share(objects, summary.objects),
                "bytes_percent": _share(size, summary.bytes),
            }
        )
    return rows


def _segments(rows: list[dict], share: str) -> list[dict]:
    segments, x = [], 0.0
    for row in rows:
        width = row[share]
        if width > 0:
            segments.append({**row, "x": round(x, 3), "width": round(width, 3), "share": width})
            x += width
    return segments


@register.inclusion_tag("jobs/chart_states.html")
def states_bar(summary: selectors.ScanSummary, measure: str = "objects", legend: bool = True):
    """A stacked bar of a scan's encryption states, by objects or by bytes, with its legend."""
    rows = state_rows(summary)
    share = "bytes_percent" if measure == "bytes" else "objects_percent"
    described = "; ".join(f"{row['label']} {row[share]:.1f}%" for row in rows) or "no objects"
    return {"segments": _segments(rows, share), "measure": measure, "described": described, "legend": legend}


@register.inclusion_tag("jobs/chart_trend.html")
def compliance_trend(summaries: list[selectors.ScanSummary]):
    """Compliance (share of compliant objects) over a bucket's past scans, oldest first, as SVG bars."""
    count = len(summaries)
    slot = 300 / max(count, TREND_SLOTS)
    bars = []
    for index, summary in enumerate(summaries):
        height = summary.compliant_percent or 0.0
        bars.append(
            {
                "summary": summary,
                "x": round(index * slot + slot * 0.15, 2),
                "width": round(slot * 0.7, 2),
                "y": round(100 - height, 2),
                "height": round(max(height, 0.5), 2),
            }
        )
    return {"bars": bars, "count": count}


@register.simple_tag
def bucket_for(spec: JobSpec) -> Bucket | None:
    """The console's bucket row for a job or schedule (None when the console has not seen the bucket)."""
    return selectors.bucket_of(spec)


@register.inclusion_tag("jobs/bucket_compliance.html", takes_context=True)
def bucket_compliance(context, bucket: Bucket):
    """The bucket page's card: its latest finished scan, the jobs running on it, links to scan and re-encrypt."""
    latest = selectors.latest_scan_of(bucket)
    return {
        "bucket": bucket,
        "perms": context.get("perms"),
        "summary": selectors.summarise_scan(latest) if latest else None,
        "active": selectors.active_jobs_on(bucket),
    }


@register.filter
def bucket_query(where: Bucket | JobSpec) -> str:
    """The query that opens a job or scan form on a bucket (or on a job's bucket)."""
    name = where.name if isinstance(where, Bucket) else where.bucket
    return urlencode([("connection", where.connection_id), ("bucket", name)])


@register.filter
def schedule_query(job: Job) -> str:
    """The schedule form prefilled with this job's objects and target: "Schedule it"."""
    query = [(name, getattr(job, name)) for name in SPEC_QUERY_FIELDS if name != "connection" and getattr(job, name)]
    query += [("connection", job.connection_id), *(("prefix", prefix) for prefix in job.prefixes)]
    if job.target_mode == Job.TARGET_EXPLICIT:
        query += [(name, getattr(job, name)) for name in TARGET_QUERY_FIELDS]
    return urlencode(query)


@register.filter
def reencrypt_query(scan: Job) -> str:
    """The new-job form prefilled with the scan's bucket, prefixes and target: 'Re-encrypt what does not match'."""
    query = [("connection", scan.connection_id), ("bucket", scan.bucket), ("select", Job.SELECT_NOT_MATCHING)]
    query += [("prefix", prefix) for prefix in scan.prefixes]
    if scan.target_mode == Job.TARGET_EXPLICIT:
        query += [("target_mode", Job.TARGET_EXPLICIT), ("target_method", scan.target_method)]
        query += [("target_algorithm", scan.target_algorithm), ("target_key_id", scan.target_key_id)]
    elif scan.resolved_method == ANY_ENCRYPTION:
        # The bucket had no default: the re-encryption needs an explicit encryption, to be chosen in the form.
        query += [("target_mode", Job.TARGET_EXPLICIT)]
    return urlencode(query)


@register.simple_tag(takes_context=True)
def querystring_of(context, name: str, value) -> str:
    """The page's query string with `name` set to `value` (for pagers whose parameter name is a variable)."""
    query = context["request"].GET.copy()
    query[name] = value
    return query.urlencode()


@register.filter
def state_table(summary: selectors.ScanSummary) -> list[dict]:
    return state_rows(summary)
