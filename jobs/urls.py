"""Pages of the jobs app, mounted at /jobs/: jobs and scans, the compliance dashboard, schedules."""

from django.urls import path

from jobs.views import jobs, rewraps, scans, schedules, sweeps

app_name = "jobs"

urlpatterns = [
    path("", jobs.job_list, name="job_list"),
    path("new/", jobs.job_new, name="job_new"),
    path("scan/", jobs.scan_new, name="scan_new"),
    path("rewrap/", rewraps.rewrap_new, name="rewrap_new"),
    path("compliance/", scans.compliance, name="compliance"),
    path("<int:pk>/", jobs.job_detail, name="job_detail"),
    path("<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    path("<int:pk>/pause/", jobs.job_pause, name="job_pause"),
    path("<int:pk>/resume/", jobs.job_resume, name="job_resume"),
    path("<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("<int:pk>/retry/", jobs.job_retry, name="job_retry"),
    path("<int:pk>/run/", jobs.job_run, name="job_run"),
    path("<int:pk>/report.csv", jobs.job_report, name="job_report"),
    path("<int:pk>/objects.csv.gz", jobs.job_completion_report, name="job_completion_report"),
    path("schedules/", schedules.schedule_list, name="schedule_list"),
    path("schedules/new/", schedules.schedule_new, name="schedule_new"),
    path("schedules/<int:pk>/", schedules.schedule_edit, name="schedule_edit"),
    path("schedules/<int:pk>/delete/", schedules.schedule_delete, name="schedule_delete"),
    path("schedules/<int:pk>/run/", schedules.schedule_run_now, name="schedule_run_now"),
    path("sweeps/new/", sweeps.sweep_start, name="sweep_start"),
    path("sweeps/<int:pk>/", sweeps.sweep_detail, name="sweep_detail"),
]
