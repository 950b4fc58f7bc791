from rest_framework import authentication, exceptions

from accounts import services


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` as REST framework's TokenAuthentication reads it, checked against the hashed,
    expiring tokens of accounts.ApiToken."""

    def authenticate_credentials(self, key):
        user = services.api_token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return user, None
