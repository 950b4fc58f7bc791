"""Pages of the jobs app: re-encryption jobs, compliance scans and their dashboard, schedules."""
