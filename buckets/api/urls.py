from django.urls import path
from rest_framework.routers import SimpleRouter

from buckets.api.views.buckets import BucketViewSet
from buckets.api.views.connections import ConnectionViewSet
from buckets.api.views.objects import (
    ObjectContentView,
    ObjectDetailView,
    ObjectEncryptionView,
    ObjectListView,
    ObjectVersionsView,
)

router = SimpleRouter()
router.register("connections", ConnectionViewSet, basename="connection")
router.register("buckets", BucketViewSet, basename="bucket")
# Object keys contain slashes: they travel in the query string or the body, never in the path.
urlpatterns = [
    path("buckets/<int:bucket_id>/objects/", ObjectListView.as_view(), name="bucket-objects"),
    path("buckets/<int:bucket_id>/objects/detail/", ObjectDetailView.as_view(), name="bucket-object-detail"),
    path(
        "buckets/<int:bucket_id>/objects/encryption/", ObjectEncryptionView.as_view(), name="bucket-object-encryption"
    ),
    path("buckets/<int:bucket_id>/objects/versions/", ObjectVersionsView.as_view(), name="bucket-object-versions"),
    path("buckets/<int:bucket_id>/objects/content/", ObjectContentView.as_view(), name="bucket-object-content"),
]
