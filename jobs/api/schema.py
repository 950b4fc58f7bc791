"""OpenAPI examples of the jobs API: jobs, dry runs and scans, their outcomes, and schedules."""

from drf_spectacular.utils import OpenApiExample

# Jobs, dry runs and scans

KEY_ID = "0987dcba-09fe-87dc-65ba-ab0987654321"
SPEC_EXAMPLE = {
    "connection": 1,
    "bucket": "finance-reports",
    "kind": "reencrypt",
    "prefixes": ["2025/", "2026/"],
    "select": "not-matching",
    "select_key_id": "",
    "select_algorithm": "",
    "min_size": None,
    "max_size": None,
    "target_mode": "explicit",
    "target_method": "kms",
    "target_algorithm": "AES256",
    "target_key_id": "alias/finance",
    "concurrency": 8,
    "requests_per_second": 200,
    "kms_per_second": 100,
    "verify": True,
    "purge_history": False,
    "check_after_copy": "response",
}
JOB_EXAMPLE = {
    "id": 12,
    "kind": "reencrypt",
    "state": "running",
    "dry_run": False,
    "connection": 1,
    "connection_name": "production",
    **{name: value for name, value in SPEC_EXAMPLE.items() if name not in ("connection", "kind")},
    "target": {
        "method": "kms",
        "algorithm": "AES256",
        "key_id": KEY_ID,
        "label": f"KMS AES256 alias/finance({KEY_ID})",
    },
    "error": "",
    "schedule": None,
    "retry_of": None,
    "verifies": None,
    "created_by": "olga",
    "created_at": "2026-11-23T10:15:00Z",
    "started_at": "2026-11-23T10:15:00Z",
    "finished_at": None,
    "running_seconds": 42.5,
}
OUTCOMES_EXAMPLE = {
    "reencrypted": {"objects": 4210, "bytes": 8_620_000_000},
    "compliant": {"objects": 780, "bytes": 1_130_000_000},
    "planned": {"objects": 0, "bytes": 0},
    "filtered": {"objects": 0, "bytes": 0},
    "skipped": {"objects": 8, "bytes": 96_000_000},
    "failed": {"objects": 2, "bytes": 4096},
    "not-matching": {"objects": 0, "bytes": 0},
}
PROGRESS_EXAMPLE = {
    "objects_total": 12000,
    "bytes_total": 24_500_000_000,
    "total_known": True,
    "count_error": "",
    "objects_done": 5000,
    "bytes_done": 9_846_004_096,
    "purged_versions": 0,
    "purged_bytes": 0,
    "percent": 41.7,
    "rate_per_second": 117.6,
    "eta_seconds": 59.5,
    "errors": 2,
    "requests": 17650,
    "kms_calls": 8420,
    "outcomes": OUTCOMES_EXAMPLE,
}
JOB_DETAIL_EXAMPLE = OpenApiExample(
    "A re-encryption to a named KMS key, running",
    value=JOB_EXAMPLE | {"progress": PROGRESS_EXAMPLE, "plan": None, "summary": None},
    response_only=True,
)
DRY_RUN_EXAMPLE = OpenApiExample(
    "A finished dry run with its plan",
    value=JOB_EXAMPLE
    | {
        "dry_run": True,
        "state": "completed",
        "finished_at": "2026-11-23T10:16:10Z",
        "progress": PROGRESS_EXAMPLE
        | {
            "objects_done": 12000,
            "percent": 100.0,
            "eta_seconds": None,
            "errors": 0,
            "outcomes": OUTCOMES_EXAMPLE
            | {
                "reencrypted": {"objects": 0, "bytes": 0},
                "planned": {"objects": 11212, "bytes": 23_300_000_000},
                "failed": {"objects": 0, "bytes": 0},
            },
        },
        "plan": {
            "objects": 11212,
            "bytes": 23_300_000_000,
            "compliant": 780,
            "filtered": 0,
            "skipped": {"archived and not restored": 8},
            "requests": 45636,
            "kms_calls": 22424,
            "seconds": 228.2,
            "duration": "0:03:49",
        },
        "summary": None,
    },
    response_only=True,
)
SCAN_EXAMPLE = OpenApiExample(
    "A finished compliance scan",
    value=JOB_EXAMPLE
    | {
        "kind": "scan",
        "state": "completed",
        "select": "all",
        "prefixes": [],
        "target_mode": "bucket-default",
        "target_method": "",
        "target_algorithm": "",
        "target_key_id": "",
        "target": {"method": "oss", "algorithm": "AES256", "key_id": "", "label": "OSS-managed AES256"},
        "progress": PROGRESS_EXAMPLE | {"objects_done": 12000, "percent": 100.0, "eta_seconds": None, "errors": 0},
        "plan": None,
        "summary": {
            "states": [
                {"label": "OSS-managed AES256", "objects": 9000, "bytes": 20_000_000_000},
                {"label": "None", "objects": 2992, "bytes": 4_400_000_000},
                {"label": "None (archived)", "objects": 8, "bytes": 100_000_000},
            ],
            "objects": 12000,
            "bytes": 24_500_000_000,
            "compliant_objects": 9000,
            "compliant_bytes": 20_000_000_000,
            "compliant_percent": 75.0,
            "compliant_bytes_percent": 81.6,
            "not_matching": 2992,
            "cannot_reencrypt": 8,
            "client_side": 0,
            "counting": False,
            "outdated_by": ["job #3 re-encrypted 2992 objects since"],
            "history": [
                {"label": "None", "objects": 1204, "bytes": 3_100_000_000},
                {"label": "OSS-managed AES256", "objects": 6, "bytes": 12_000},
            ],
            "history_versions": 1210,
            "history_bytes": 3_100_012_000,
            "exposed_versions": 1204,
            "exposed_bytes": 3_100_000_000,
            "history_failures": [],
        },
    },
    response_only=True,
)
OUTCOME_EXAMPLE = OpenApiExample(
    "A failed object",
    value={
        "id": 301,
        "key": "2026/q3/ledger.csv",
        "size": 2048,
        "outcome": "failed",
        "encryption_before": "None",
        "reason": "KMS refused the key",
        "code": "Forbidden.KeyNotFound",
        "request_id": "7B0F9C2E-2A7D-4C5B-8E1F-0A1B2C3D4E5F",
        "at": "2026-11-23T10:15:30Z",
    },
    response_only=True,
)
JOB_LIST_EXAMPLE = OpenApiExample("A job", value=JOB_EXAMPLE, response_only=True)
JOB_CREATE_EXAMPLE = OpenApiExample("Re-encrypt two prefixes to a named KMS key", value=SPEC_EXAMPLE, request_only=True)
DRY_RUN_CREATE_EXAMPLE = OpenApiExample(
    "Plan bringing everything to the bucket default",
    value={"connection": 1, "bucket": "finance-reports", "target_mode": "bucket-default", "dry_run": True},
    request_only=True,
)
SCAN_CREATE_EXAMPLE = OpenApiExample(
    "Scan a bucket", value={"connection": 1, "bucket": "finance-reports", "kind": "scan"}, request_only=True
)


# Schedules

SCHEDULE_INPUT_EXAMPLE = {
    "name": "nightly finance re-encryption",
    **SPEC_EXAMPLE,
    "crontab": "0 2 * * *",
    "interval_minutes": None,
    "enabled": True,
}
SCHEDULE_EXAMPLE = OpenApiExample(
    "A nightly re-encryption",
    value={
        "id": 4,
        **SCHEDULE_INPUT_EXAMPLE,
        "connection_name": "production",
        "next_run": "2026-11-24T02:00:00+08:00",
        "last_runs": [
            {
                "id": 31,
                "schedule": 4,
                "outcome": "started",
                "at": "2026-11-23T02:00:00+08:00",
                "job": 12,
                "reason": "",
            },
            {
                "id": 30,
                "schedule": 4,
                "outcome": "skipped",
                "at": "2026-11-22T02:00:00+08:00",
                "job": 9,
                "reason": "job 9 of this schedule is still running",
            },
        ],
        "created_by": "olga",
        "created_at": "2026-11-20T09:00:00Z",
        "updated_at": "2026-11-20T09:00:00Z",
    },
    response_only=True,
)
SCHEDULE_CREATE_EXAMPLE = OpenApiExample("Nightly at 02:00", value=SCHEDULE_INPUT_EXAMPLE, request_only=True)
SCAN_SCHEDULE_CREATE_EXAMPLE = OpenApiExample(
    "A scan every 6 hours",
    value={
        "name": "finance compliance",
        "connection": 1,
        "bucket": "finance-reports",
        "kind": "scan",
        "interval_minutes": 360,
    },
    request_only=True,
)
SCHEDULE_DISABLE_EXAMPLE = OpenApiExample("Disable", value={"enabled": False}, request_only=True)
