"""/api/v1/jobs/: re-encryption jobs, dry runs and compliance scans.

Viewers read everything (progress, plans, scan summaries, reports); Operators start, pause, resume, cancel and
retry jobs. Every operation is one call into jobs.services.jobs, which checks the rules and writes the audit log;
its refusals come back as {"detail": ...} with 400, 404 or 409.
"""

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cloud.errors import NotFound
from console.csv_export import csv_download
from jobs import selectors
from jobs.api import schema
from jobs.api.serializers.jobs import (
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    OutcomeSerializer,
    ReportPartSerializer,
    RetryFailedSerializer,
    spec_of,
)
from jobs.filtersets import JobFilterSet, OutcomeFilterSet
from jobs.models import Job, ObjectOutcome
from jobs.services import jobs as services

VIEW_JOB, ADD_JOB, CHANGE_JOB = "jobs.view_job", "jobs.add_job", "jobs.change_job"


class CsvRenderer(renderers.BaseRenderer):
    """Lets a client ask for text/csv; the report itself is streamed, this only renders an error's detail."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        detail = data.get("detail", "") if isinstance(data, dict) else data
        return str(detail or "").encode()


def _with_report(job: Job) -> Job:
    if not job.report_bucket:
        raise NotFound(f"Job {job.pk} was given no report location: it wrote no completion report.")
    return job


def _job_response(job: Job, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(JobDetailSerializer(selectors.get_job(job.pk)).data, status=status_code)


def _state_change_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description + " Answers the job; 409 when its state does not allow it.",
        request=None,
        responses=JobDetailSerializer,
        examples=[schema.JOB_DETAIL_EXAMPLE],
    )


@extend_schema_view(
    list=extend_schema(
        summary="Jobs and scans, newest first",
        description="Without progress: follow one job at /jobs/{id}/. Scans are the jobs with kind=scan.",
        examples=[schema.JOB_LIST_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="A job with its progress, and its plan (dry run) or summary (scan)",
        responses=JobDetailSerializer,
        examples=[schema.JOB_DETAIL_EXAMPLE, schema.DRY_RUN_EXAMPLE, schema.SCAN_EXAMPLE],
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Re-encryption jobs, dry runs and compliance scans (kind=scan) of a bucket."""

    queryset = Job.objects.select_related("connection", "created_by")
    serializer_class = JobSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = JobFilterSet
    action_permissions = {
        "list": [VIEW_JOB],
        "retrieve": [VIEW_JOB],
        "create": [ADD_JOB],
        "pause": [CHANGE_JOB],
        "resume": [CHANGE_JOB],
        "cancel": [CHANGE_JOB],
        "retry_failed": [CHANGE_JOB],
        "report": [VIEW_JOB],
        "completion_report_parts": [VIEW_JOB],
        "completion_report_download": [VIEW_JOB],
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
            schema.JOB_CREATE_EXAMPLE,
            schema.DRY_RUN_CREATE_EXAMPLE,
            schema.SCAN_CREATE_EXAMPLE,
            schema.JOB_DETAIL_EXAMPLE,
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
            purge_confirmation=data["purge_confirmation"],
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
        description="A new job, with the same spec and limits, over exactly the objects that failed: those the job "
        'kept, or with {"source": "report"} those its completion report in the cloud lists (read part by part). 409 '
        "while the job is still active, when nothing failed, or when it wrote no report.",
        request=RetryFailedSerializer,
        responses={201: JobDetailSerializer},
        examples=[schema.JOB_DETAIL_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        payload = RetryFailedSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        from_report = payload.validated_data["source"] == "report"
        retry = services.retry_failed(self.get_object(), request.user, from_report=from_report)
        return _job_response(retry, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The job's report as CSV",
        description="Every failed, skipped and (scans) not-matching object with reason, error code and request id, "
        "then one total line per counted outcome. Streamed.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, CsvRenderer])
    def report(self, request, pk=None):
        job = self.get_object()
        return csv_download(selectors.report_rows(job), selectors.report_filename(job))

    @extend_schema(
        summary="The parts of the job's completion report written so far",
        description="One part per listing page, in page order: its object key in the report bucket, rows, size and "
        "SHA-256 (the report's location is completion_report in the job). 404 when the job has no report location.",
        responses=ReportPartSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="completion-report/parts", filter_backends=[])
    def completion_report_parts(self, request, pk=None):
        job = _with_report(self.get_object())
        page = self.paginate_queryset(list(selectors.report_parts(job)))
        return self.get_paginated_response(ReportPartSerializer(page, many=True).data)

    @extend_schema(
        summary="The job's completion report: one CSV row per object, gzip",
        description="Streamed from the cloud: the header, then every part written so far, as one gzip file. Columns: "
        "key, size, outcome, reason, code, encryption before and after (labels, then method, algorithm and key id "
        "of each), the request id (of the copy, else of the error or the HEAD) and the time (UTC). 404 when the job "
        "has no report location.",
        responses={(200, "application/gzip"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="completion-report/download")
    def completion_report_download(self, request, pk=None):
        job = _with_report(self.get_object())
        response = StreamingHttpResponse(selectors.completion_report_download(job), content_type="application/gzip")
        response["Content-Disposition"] = content_disposition_header(True, selectors.completion_report_filename(job))
        return response

    @extend_schema(
        summary="Objects the job kept a record of",
        description="Failed, skipped and (scans) not-matching objects, in the order they were met. Objects "
        "re-encrypted, compliant, planned or filtered are only counted (see progress.outcomes).",
        parameters=[OpenApiParameter("outcome", OpenApiTypes.STR, enum=list(ObjectOutcome.KEPT))],
        responses=OutcomeSerializer(many=True),
        examples=[schema.OUTCOME_EXAMPLE],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def outcomes(self, request, pk=None):
        kept = OutcomeFilterSet(request.query_params, queryset=self.get_object().outcomes.order_by("id"))
        if not kept.is_valid():
            raise serializers.ValidationError(kept.errors)
        page = self.paginate_queryset(kept.qs)
        return self.get_paginated_response(OutcomeSerializer(page, many=True).data)
