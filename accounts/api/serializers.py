from datetime import datetime

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.models import ApiToken
from accounts.roles import ROLE_CHOICES
from accounts.services import account_lockouts, has_two_factor, password_change_required, role_of
from console import input_limits


class UserSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    locked_until = serializers.SerializerMethodField(
        help_text="When the lockout after failed sign-ins ends; null when the user is not locked out."
    )
    two_factor = serializers.SerializerMethodField(help_text="Whether signing in takes a code from an authenticator.")
    password_change_required = serializers.SerializerMethodField(
        help_text="Whether the user still has a generated password, to be changed before anything else."
    )

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "role",
            "is_active",
            "locked_until",
            "two_factor",
            "password_change_required",
            "last_login",
            "date_joined",
        ]
        read_only_fields = fields

    def get_role(self, user) -> str | None:
        role = role_of(user)
        return role.lower() if role else None

    def get_locked_until(self, user) -> datetime | None:
        return account_lockouts([user]).get(user.pk)

    def get_two_factor(self, user) -> bool:
        return has_two_factor(user)

    def get_password_change_required(self, user) -> bool:
        return password_change_required(user)


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, default="")
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    password = serializers.CharField(
        max_length=input_limits.PASSWORD, write_only=True, required=False, style={"input_type": "password"}
    )


class UserCreatedSerializer(UserSerializer):
    generated_password = serializers.CharField(
        allow_null=True, help_text="Set only when the request had no password; shown this once."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "generated_password"]
        read_only_fields = fields


class PasswordResetSerializer(UserSerializer):
    generated_password = serializers.CharField(help_text="The new password, shown this once; to be changed at sign-in.")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "generated_password"]
        read_only_fields = fields


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        max_length=input_limits.PASSWORD, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        max_length=input_limits.PASSWORD,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Checked by the console's password rules (AUTH_PASSWORD_VALIDATORS).",
    )


class UserRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=input_limits.NAME,
    )
    password = serializers.CharField(
        max_length=input_limits.PASSWORD, style={"input_type": "password"}, write_only=True
    )
    code = serializers.CharField(
        required=False,
        default="",
        max_length=32,
        write_only=True,
        help_text="The current code of the account's authenticator app (or a recovery code), when it has one.",
    )
    label = serializers.CharField(
        required=False, default="", max_length=100, help_text="What the token is for, shown in the token list."
    )


class TokenListQuerySerializer(serializers.Serializer):
    user = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only this user's tokens (Admins see anyone's)."
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "user", "prefix", "label", "created", "expires", "last_used"]
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`; shown this once.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields
