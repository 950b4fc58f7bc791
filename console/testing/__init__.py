"""Test helpers shared by the apps' suites; imported by tests only, never by the running console.

One module per area: browser (the Playwright plugin), cloud (buckets and keys in localcloud), objects, jobs,
waits (wait_until: on a state, never a duration), workers (real Celery processes), hosts (localcloud's host
names resolved to loopback in the test process), multihost (console hosts with their own var dirs on a shared
PostgreSQL, Redis and localcloud, started from the Procfile and the systemd units). Fixtures stay in conftest.py
files, found by pytest and never imported; a test module imports neither a conftest nor another test module
(console/tests/test_test_layout.py checks it).
"""
