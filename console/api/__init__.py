"""What every app's API shares: the /api/v1/ urls, permissions, pagination and the answer to refusals."""
