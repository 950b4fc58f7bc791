"""/api/v1/schedules/: job specs that Celery beat runs on a crontab or an interval.

Viewers read them with their next run and last runs; Operators create, change, delete and run them now. Every
operation is one call into jobs.services.schedules, which checks the rules and writes the audit log; its refusals
come back as {"detail": ...} with 400, 404 or 409.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from jobs import selectors
from jobs.api import schema
from jobs.api.serializers.jobs import spec_of
from jobs.api.serializers.schedules import (
    LAST_RUNS,
    ScheduleInputSerializer,
    ScheduleRunSerializer,
    ScheduleSerializer,
)
from jobs.models import Schedule
from jobs.services import schedules
from jobs.services.jobs import Spec

ADD_JOB = "jobs.add_job"


@extend_schema_view(
    list=extend_schema(summary="Schedules", examples=[schema.SCHEDULE_EXAMPLE]),
    retrieve=extend_schema(summary="A schedule with its next run and last runs", examples=[schema.SCHEDULE_EXAMPLE]),
    destroy=extend_schema(summary="Delete a schedule", description="Its jobs stay; the beat entry goes."),
)
class ScheduleViewSet(viewsets.ModelViewSet):
    """Job specs that Celery beat runs on a crontab or an interval; a run is skipped while the last job runs."""

    queryset = selectors.schedules_listed(LAST_RUNS)
    serializer_class = ScheduleSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["connection", "bucket", "kind", "enabled"]
    action_permissions = {
        "list": ["jobs.view_schedule"],
        "retrieve": ["jobs.view_schedule"],
        "create": ["jobs.add_schedule"],
        "update": ["jobs.change_schedule"],
        "partial_update": ["jobs.change_schedule"],
        "destroy": ["jobs.delete_schedule"],
        "run_now": [ADD_JOB],
    }

    @extend_schema(
        summary="Create a schedule",
        description="Checked like a job (the bucket, the spec) and its timing: a crontab or an interval.",
        request=ScheduleInputSerializer,
        responses={201: ScheduleSerializer},
        examples=[schema.SCHEDULE_CREATE_EXAMPLE, schema.SCAN_SCHEDULE_CREATE_EXAMPLE, schema.SCHEDULE_EXAMPLE],
    )
    def create(self, request):
        payload = ScheduleInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._save(payload.validated_data, None, status.HTTP_201_CREATED)

    @extend_schema(request=ScheduleInputSerializer, responses=ScheduleSerializer, examples=[schema.SCHEDULE_EXAMPLE])
    def update(self, request, pk=None, partial=False):
        schedule = self.get_object()
        payload = ScheduleInputSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        # A PATCH that switches the timing to a crontab drops the interval, and the other way round.
        if changes.get("crontab") and "interval_minutes" not in changes:
            changes["interval_minutes"] = None
        if changes.get("interval_minutes") and "crontab" not in changes:
            changes["crontab"] = ""
        return self._save(self._current(schedule) | changes, schedule)

    @extend_schema(
        request=ScheduleInputSerializer,
        responses=ScheduleSerializer,
        examples=[schema.SCHEDULE_DISABLE_EXAMPLE, schema.SCHEDULE_EXAMPLE],
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        schedules.delete_schedule(self.get_object(), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Run a schedule now",
        description="Fires it at once through the same code path as beat: starts its job (its sweep, for a "
        "schedule over every bucket or a pattern), or records a skipped run while the last one is still active, or "
        "a failed run with the reason; answers the run.",
        request=None,
        responses={201: ScheduleRunSerializer},
    )
    @action(detail=True, methods=["post"], url_path="run-now")
    def run_now(self, request, pk=None):
        run = schedules.run_schedule(self.get_object().pk, actor=request.user)
        return Response(ScheduleRunSerializer(run).data, status=status.HTTP_201_CREATED)

    def _save(self, data: dict, schedule: Schedule | None, status_code: int = status.HTTP_200_OK) -> Response:
        saved = schedules.save_schedule(
            actor=self.request.user,
            connection=data["connection"],
            bucket=data["bucket"],
            name=data["name"],
            spec=spec_of(data),
            crontab=data["crontab"],
            interval_minutes=data["interval_minutes"],
            enabled=data["enabled"],
            timezone_name=data["timezone"],
            scope=data["scope"],
            bucket_pattern=data["bucket_pattern"],
            schedule=schedule,
        )
        return Response(ScheduleSerializer(self.get_queryset().get(pk=saved.pk)).data, status=status_code)

    @staticmethod
    def _current(schedule: Schedule) -> dict:
        return {
            **Spec.of(schedule).fields(),
            "connection": schedule.connection,
            "bucket": schedule.bucket,
            "name": schedule.name,
            "crontab": schedule.crontab,
            "interval_minutes": schedule.interval_minutes,
            "enabled": schedule.enabled,
            "timezone": schedule.timezone,
            "scope": schedule.scope,
            "bucket_pattern": schedule.bucket_pattern,
        }
