"""The one filter set the bucket list page and the bucket API share."""

import django_filters

from buckets.models import Bucket, Connection
from buckets.services import buckets as services
from cloud import sse
from console import input_limits


class BucketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        max_length=input_limits.SEARCH, field_name="name", lookup_expr="icontains", label="Name contains"
    )
    connection = django_filters.ModelChoiceFilter(queryset=Connection.objects.all(), empty_label="All connections")
    encryption = django_filters.ChoiceFilter(
        choices=services.ENCRYPTION_STATES,
        method="filter_encryption",
        label="Encryption",
        empty_label="Any encryption",
    )
    method = django_filters.ChoiceFilter(
        field_name="sse_method", choices=sse.METHOD_CHOICES, label="Method", empty_label="Any method"
    )
    algorithm = django_filters.ChoiceFilter(
        field_name="sse_algorithm", choices=sse.ALGORITHM_CHOICES, label="Algorithm", empty_label="Any algorithm"
    )

    class Meta:
        model = Bucket
        fields = ["q", "connection", "encryption", "method", "algorithm"]

    def filter_encryption(self, queryset, name, value):
        return queryset.filter(services.state_filter(value))
