"""OSS operations (see localcloud/oss/routes.py)."""
