from rest_framework.routers import SimpleRouter

from jobs.api.views.jobs import JobViewSet
from jobs.api.views.schedules import ScheduleViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("schedules", ScheduleViewSet, basename="schedule")
urlpatterns = []
