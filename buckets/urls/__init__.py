"""Pages of the buckets app: connections, buckets (with their encryption form) and objects."""

from buckets.urls import buckets, connections, objects

app_name = "buckets"

urlpatterns = [*connections.urlpatterns, *buckets.urlpatterns, *objects.urlpatterns]
