"""/api/v1/sweeps/: compliance scans of many buckets, one job per bucket, with the combined result.

Viewers read sweeps; Operators start them. Starting is one call into jobs.services.sweeps, which creates each
bucket's scan through the job service (checked, audited, limited like any job)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from jobs import selectors
from jobs.api.serializers.sweeps import SweepCreateSerializer, SweepSerializer
from jobs.services import sweeps


@extend_schema_view(
    list=extend_schema(summary="Sweeps, newest first"),
    retrieve=extend_schema(summary="A sweep: each bucket's scan and the combined result"),
)
class SweepViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = selectors.sweeps_listed()
    serializer_class = SweepSerializer
    action_permissions = {"list": ["jobs.view_job"], "retrieve": ["jobs.view_job"], "create": ["jobs.add_job"]}

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = SweepSerializer([selectors.sweep_result(sweep) for sweep in page], many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request, pk=None):
        return Response(SweepSerializer(selectors.sweep_result(selectors.get_sweep(pk))).data)

    @extend_schema(
        summary="Scan many buckets",
        description="A compliance scan of each bucket named (or of every bucket of the connection, or of every "
        "connection), at most JOBS_SWEEP_MAX_RUNNING at once; answers the sweep. 400 when a bucket is not the "
        "connection's.",
        request=SweepCreateSerializer,
        responses={201: SweepSerializer},
    )
    def create(self, request):
        payload = SweepCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        connection, names = payload.validated_data["connection"], payload.validated_data.get("buckets")
        if names:
            buckets = sweeps.named_buckets(connection, names)
            where = f"{len(buckets)} bucket{'s' if len(buckets) != 1 else ''} of {connection.name}"
        elif connection:
            buckets, where = sweeps.matching_buckets(connection), f"every bucket of {connection.name}"
        else:
            buckets, where = sweeps.every_bucket(), "every bucket of every connection"
        sweep = sweeps.start_sweep(actor=request.user, buckets=buckets, description=where)
        result = selectors.sweep_result(selectors.get_sweep(sweep.pk))
        return Response(SweepSerializer(result).data, status=status.HTTP_201_CREATED)
