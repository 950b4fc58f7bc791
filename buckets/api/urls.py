from buckets.api.views import buckets, connections, objects

routers = [connections.router, buckets.router, objects.router]
urlpatterns = [*connections.urlpatterns, *buckets.urlpatterns, *objects.urlpatterns]
