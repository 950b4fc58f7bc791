from rest_framework.routers import SimpleRouter

from jobs.api.views import JobViewSet, ScheduleViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("schedules", ScheduleViewSet, basename="schedule")
routers = [router]
urlpatterns = []
