"""/api/v1/jobs/: re-encryption jobs, dry runs and compliance scans.

Viewers read everything (progress, plans, scan summaries, reports); Operators start, pause, resume, cancel and
retry jobs. Every operation is one call into jobs.services, which checks the rules and writes the audit log; its
refusals come back as {"detail": ...} with 400, 404 or 409.
"""

import csv

from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from jobs.api.serializers.jobs import (
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    OutcomeSerializer,
    spec_of,
)
from jobs.filtersets import JobFilterSet, OutcomeFilterSet
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

VIEW_JOB, CHANGE_JOB = "jobs.view_job", "jobs.change_job"


class _Echo:
    def write(self, value):
        return value


def _csv_lines(rows):
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


class CsvRenderer(renderers.BaseRenderer):
    """Lets a client ask for text/csv; the report itself is streamed, this only renders an error's detail."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        detail = data.get("detail", "") if isinstance(data, dict) else data
        return str(detail or "").encode()


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
    "objects_done": 5000,
    "bytes_done": 9_846_004_096,
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


def _job_response(job: Job, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(JobDetailSerializer(services.get_job(job.pk)).data, status=status_code)


def _state_change_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description + " Answers the job; 409 when its state does not allow it.",
        request=None,
        responses=JobDetailSerializer,
        examples=[JOB_DETAIL_EXAMPLE],
    )


@extend_schema_view(
    list=extend_schema(
        summary="Jobs and scans, newest first",
        description="Without progress: follow one job at /jobs/{id}/. Scans are the jobs with kind=scan.",
        examples=[OpenApiExample("A job", value=JOB_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="A job with its progress, and its plan (dry run) or summary (scan)",
        responses=JobDetailSerializer,
        examples=[JOB_DETAIL_EXAMPLE, DRY_RUN_EXAMPLE, SCAN_EXAMPLE],
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Re-encryption jobs, dry runs and compliance scans (kind=scan) of a bucket."""

    queryset = Job.objects.select_related("connection", "created_by")
    serializer_class = JobSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = JobFilterSet
    action_permissions = {
        "pause": [CHANGE_JOB],
        "resume": [CHANGE_JOB],
        "cancel": [CHANGE_JOB],
        "retry_failed": [CHANGE_JOB],
        "report": [VIEW_JOB],
        "outcomes": [VIEW_JOB],
    }

    def get_serializer_class(self):
        return JobDetailSerializer if self.action == "retrieve" else JobSerializer

    @extend_schema(
        summary="Start a job, a dry run or a scan",
        description=(
            "Checks the spec (prefixes, selection, target allowed for the bucket, limits), reads the bucket default "
            "once when the target is the bucket default, and starts: workers pick the first listing page at once. "
            "kind=scan only reads (HEAD) and reports compliance; dry_run=true plans a re-encryption without writing."
        ),
        request=JobCreateSerializer,
        responses={201: JobDetailSerializer},
        examples=[
            OpenApiExample("Re-encrypt two prefixes to a named KMS key", value=SPEC_EXAMPLE, request_only=True),
            OpenApiExample(
                "Plan bringing everything to the bucket default",
                value={"connection": 1, "bucket": "finance-reports", "target_mode": "bucket-default", "dry_run": True},
                request_only=True,
            ),
            OpenApiExample(
                "Scan a bucket", value={"connection": 1, "bucket": "finance-reports", "kind": "scan"}, request_only=True
            ),
            JOB_DETAIL_EXAMPLE,
        ],
    )
    def create(self, request):
        payload = JobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        job = services.create_job(
            actor=request.user,
            connection=data["connection"],
            bucket=data["bucket"],
            spec=spec_of(data),
            dry_run=data["dry_run"],
        )
        return _job_response(job, status.HTTP_201_CREATED)

    @_state_change_schema("Pause a job", "Workers stop after their current object; resume continues where it was.")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return _job_response(services.pause_job(self.get_object(), request.user))

    @_state_change_schema("Resume a paused job", "The pages still waiting go back to the workers.")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return _job_response(services.resume_job(self.get_object(), request.user))

    @_state_change_schema(
        "Cancel a job", "Cancelling until the workers have finished their current objects, then cancelled."
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return _job_response(services.cancel_job(self.get_object(), request.user))

    @extend_schema(
        summary="Retry the failed objects of a finished job",
        description="A new job, with the same spec and limits, over exactly the objects that failed. 409 while the "
        "job is still active or when nothing failed.",
        request=None,
        responses={201: JobDetailSerializer},
        examples=[JOB_DETAIL_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        return _job_response(services.retry_failed(self.get_object(), request.user), status.HTTP_201_CREATED)

    @extend_schema(
        summary="The job's report as CSV",
        description="Every failed, skipped and (scans) not-matching object with reason, error code and request id, "
        "then one total line per counted outcome. Streamed.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, CsvRenderer])
    def report(self, request, pk=None):
        job = self.get_object()
        response = StreamingHttpResponse(_csv_lines(services.report_rows(job)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{services.report_filename(job)}"'
        return response

    @extend_schema(
        summary="Objects the job kept a record of",
        description="Failed, skipped and (scans) not-matching objects, in the order they were met. Objects "
        "re-encrypted, compliant, planned or filtered are only counted (see progress.outcomes).",
        parameters=[OpenApiParameter("outcome", OpenApiTypes.STR, enum=list(ObjectOutcome.KEPT))],
        responses=OutcomeSerializer(many=True),
        examples=[OUTCOME_EXAMPLE],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def outcomes(self, request, pk=None):
        kept = OutcomeFilterSet(request.query_params, queryset=self.get_object().outcomes.order_by("id"))
        if not kept.is_valid():
            raise serializers.ValidationError(kept.errors)
        page = self.paginate_queryset(kept.qs)
        return self.get_paginated_response(OutcomeSerializer(page, many=True).data)
