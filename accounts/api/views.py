from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    TokenRequestSerializer,
    TokenSerializer,
    UserCreatedSerializer,
    UserCreateSerializer,
    UserRoleSerializer,
    UserSerializer,
)
from console.api.permissions import PUBLIC, SIGNED_IN


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
    }

    @extend_schema(request=UserCreateSerializer, responses={201: UserCreatedSerializer})
    def create(self, request):
        payload = UserCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        created = services.create_user(actor=request.user, **payload.validated_data)
        data = UserSerializer(created.user).data | {"generated_password": created.generated_password}
        return Response(data, status=status.HTTP_201_CREATED)

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


class CurrentUserView(APIView):
    """The authenticated user, with role."""

    action_permissions = {"get": SIGNED_IN}

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class ObtainTokenView(APIView):
    """Exchange a username and password for the user's API token (send it as `Authorization: Token <key>`)."""

    action_permissions = {"post": PUBLIC}

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(request, **payload.validated_data)
        if user is None:
            raise AuthenticationFailed("Unable to log in with these credentials.")
        return Response({"token": services.api_token(user=user)})
