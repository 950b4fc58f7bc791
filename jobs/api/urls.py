from rest_framework.routers import SimpleRouter

from jobs.api.views.jobs import JobViewSet
from jobs.api.views.schedules import ScheduleViewSet
from jobs.api.views.sweeps import SweepViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("sweeps", SweepViewSet, basename="sweep")
urlpatterns = []
