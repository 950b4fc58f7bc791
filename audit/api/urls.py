from rest_framework.routers import SimpleRouter

from audit.api.views import AuditEventViewSet

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="auditevent")
urlpatterns = []
