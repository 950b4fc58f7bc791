"""Test helpers shared by the apps' suites; imported by tests only, never by the running console."""
