from django.contrib.auth import get_user_model, update_session_auth_hash
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    ApiTokenSerializer,
    IssuedTokenSerializer,
    PasswordChangeSerializer,
    PasswordResetSerializer,
    TokenListQuerySerializer,
    TokenRequestSerializer,
    UserCreatedSerializer,
    UserCreateSerializer,
    UserRoleSerializer,
    UserSerializer,
)
from console.api.permissions import PUBLIC, SIGNED_IN
from console.api.validation import validated

# Answers carrying a password or token once: no browser or proxy cache may keep them.
NOT_STORED = {"Cache-Control": "no-store"}


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Console users and their roles (Admin)."""

    queryset = get_user_model().objects.prefetch_related("groups").order_by("username")
    serializer_class = UserSerializer
    action_permissions = {
        "list": ["auth.view_user"],
        "retrieve": ["auth.view_user"],
        "create": ["auth.add_user"],
        "partial_update": ["auth.change_user"],
        "deactivate": ["auth.change_user"],
        "activate": ["auth.change_user"],
        "unlock": ["auth.change_user"],
        "reset_two_factor": ["auth.change_user"],
        "reset_password": ["auth.change_user"],
    }

    @extend_schema(request=UserCreateSerializer, responses={201: UserCreatedSerializer})
    def create(self, request):
        payload = UserCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        created = services.create_user(actor=request.user, **payload.validated_data)
        data = UserSerializer(created.user).data | {"generated_password": created.generated_password}
        return Response(data, status=status.HTTP_201_CREATED, headers=NOT_STORED)

    @extend_schema(request=UserRoleSerializer, responses=UserSerializer)
    def partial_update(self, request, pk=None):
        payload = UserRoleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.set_role(actor=request.user, user=self.get_object(), role=payload.validated_data["role"])
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = services.deactivate_user(actor=request.user, user=self.get_object())
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        user = services.activate_user(actor=request.user, user=self.get_object())
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """End the user's sign-in lockout (after too many failed sign-ins) before its time."""
        user = services.unlock_user(actor=request.user, user=self.get_object())
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"], url_path="reset-two-factor")
    def reset_two_factor(self, request, pk=None):
        """Remove the user's authenticator and recovery codes (a lost device); not your own."""
        user = services.reset_two_factor(actor=request.user, user=self.get_object())
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=PasswordResetSerializer)
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        """Give the user a generated password, answered this once; they must change it at their next sign-in and
        their sessions end. Not your own (change it at /me/password/)."""
        user = self.get_object()
        password = services.reset_password(actor=request.user, user=user)
        data = UserSerializer(user).data | {"generated_password": password}
        return Response(data, headers=NOT_STORED)


class CurrentUserView(APIView):
    """The authenticated user, with role."""

    action_permissions = {"get": SIGNED_IN}

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


@method_decorator(sensitive_post_parameters("current_password", "new_password"), name="dispatch")
class OwnPasswordView(APIView):
    """Change your own password: send the current one and the new one (204). Open to a session whose password was
    generated for it, as the way out of that state; your other sessions end."""

    action_permissions = {"post": SIGNED_IN}
    open_while_password_change_due = True

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        payload = PasswordChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.change_own_password(user=request.user, **payload.validated_data)
        if request.session is not None and request.user.is_authenticated:
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token (send it as `Authorization: Token <token>`), valid for
    API_TOKEN_DAYS; each call issues another one, shown this once.

    Throttled per client address (API_TOKEN_THROTTLE_RATE: 429 with Retry-After), and refused with 403 while the
    account or the address is locked after failed sign-ins, as the login page is. An account with two-factor
    sign-in also sends its current `code` (401 without it or with a wrong one, which counts as a failed sign-in).
    A generated password that is still to be changed gives no token (403): whoever generated it has seen it."""

    action_permissions = {"post": PUBLIC}
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses=IssuedTokenSerializer)
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        label, code = payload.validated_data.pop("label"), payload.validated_data.pop("code")
        user = services.sign_in(request, **payload.validated_data)
        if user is None:
            raise AuthenticationFailed("Unable to log in with these credentials.")
        services.check_second_factor_for_token(request, user=user, code=code)
        if services.password_change_required(user):
            raise services.PasswordChangeRequired(services.PASSWORD_CHANGE_REQUIRED)
        issued = services.issue_api_token(actor=user, user=user, label=label)
        return Response({"token": issued.key} | ApiTokenSerializer(issued.token).data, headers=NOT_STORED)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """API tokens: your own; an Admin sees everyone's, or one user's with `?user=<id>`. Revoking a token (DELETE)
    ends it at once."""

    serializer_class = ApiTokenSerializer
    lookup_value_regex = r"\d+"
    action_permissions = {"list": SIGNED_IN, "destroy": SIGNED_IN}

    @extend_schema(parameters=[TokenListQuerySerializer])
    def list(self, request):
        return super().list(request)

    def get_queryset(self):
        query = validated(TokenListQuerySerializer, self.request.query_params)
        tokens = services.visible_api_tokens(self.request.user)
        return tokens.filter(user_id=query["user"]) if "user" in query else tokens

    def perform_destroy(self, token):
        services.revoke_api_token(actor=self.request.user, token=token)
