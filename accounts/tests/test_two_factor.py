"""Two-factor sign-in: an authenticator app set up with a confirmed code, a code step after the password, recovery
codes that work once, CONSOLE_REQUIRE_2FA by role, an Admin's reset, and API tokens that are never asked for a code.

A TOTP code is accepted once: a test that has used the code of this 30-second step (to set the app up) signs in
with the next step's, which the device accepts as clock drift.
"""

from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import SignInFailures
from audit.models import AuditEvent

PASSWORD = "Correct-Horse-42"
WRONG_CODE = "000000"


def code_from(secret: str, steps_ahead: int = 0) -> str:
    return f"{totp(b32decode(secret), drift=steps_ahead):06d}"


def give_authenticator(user) -> tuple[str, list[str]]:
    """Set up an authenticator for `user` as the set-up page would; its secret and the recovery codes."""
    secret = services.begin_two_factor(user=user).secret
    _, recovery_codes = services.confirm_two_factor(user=user, code=code_from(secret))
    return secret, recovery_codes


def sign_in_with_password(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def type_code(client, code, next_page="/"):
    return client.post(reverse("login_code"), {"code": code, "next": next_page})


def fully_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def events(action):
    return AuditEvent.objects.filter(action=action).order_by("pk")


def audit_text() -> str:
    return " ".join(f"{e.target} {e.before} {e.after} {e.error}" for e in AuditEvent.objects.all())


def test_setting_up_an_authenticator_takes_a_right_code_from_its_new_secret(client_as, operator):
    client = client_as(operator)

    setup = client.post(reverse("two_factor_setup"))
    secret = setup.context["authenticator"].secret
    wrong = client.post(reverse("two_factor_confirm"), {"code": WRONG_CODE})
    right = client.post(reverse("two_factor_confirm"), {"code": code_from(secret)})

    assert "no-store" in setup["Cache-Control"]
    assert "That code is not right" in wrong.content.decode()
    assert wrong.context["authenticator"].secret == secret, "the same secret is offered again until confirmed"
    assert right.status_code == 200
    assert "no-store" in right["Cache-Control"]
    assert len(right.context["recovery_codes"]) == 10
    assert services.has_two_factor(operator)
    assert [event.outcome for event in events("user.two_factor_enrol")] == [AuditEvent.FAILURE, AuditEvent.SUCCESS]
    assert secret not in audit_text()
    assert not any(code in audit_text() for code in right.context["recovery_codes"])


def test_an_unconfirmed_authenticator_changes_nothing_at_sign_in(client, operator):
    services.begin_two_factor(user=operator)

    sign_in_with_password(client, operator)

    assert not services.has_two_factor(operator)
    assert fully_signed_in(client)


def test_with_an_authenticator_the_password_alone_opens_only_the_code_step(client, operator):
    give_authenticator(operator)

    answer = sign_in_with_password(client, operator)
    page = client.get("/buckets/")

    assert answer["Location"] == "/"
    assert client.get("/")["Location"] == "/accounts/login/code/?next=%2F"
    assert page["Location"] == "/accounts/login/code/?next=%2Fbuckets%2F"
    assert client.get(reverse("two_factor")).status_code == 302
    assert b"Sign-in code" in client.get(reverse("login_code")).content


def test_the_right_code_finishes_signing_in_and_goes_on_to_the_page_asked_for(client, operator):
    secret, _ = give_authenticator(operator)
    sign_in_with_password(client, operator)

    answer = type_code(client, code_from(secret, steps_ahead=1), next_page="/buckets/")

    assert answer["Location"] == "/buckets/"
    assert fully_signed_in(client)


def test_a_wrong_code_is_refused_audited_and_counted_toward_the_lockout(client, operator):
    give_authenticator(operator)
    sign_in_with_password(client, operator)

    answer = type_code(client, WRONG_CODE)

    assert answer.status_code == 200
    assert "That code is not right" in answer.content.decode()
    assert not fully_signed_in(client)
    [failure] = events("user.two_factor_code")
    assert (failure.outcome, failure.target) == (AuditEvent.FAILURE, operator.username)
    assert WRONG_CODE not in audit_text()
    assert SignInFailures.objects.get(kind=SignInFailures.ACCOUNT).failures == 1


def test_the_right_password_does_not_forget_the_wrong_codes_before_it(client, operator):
    give_authenticator(operator)
    sign_in_with_password(client, operator)
    type_code(client, WRONG_CODE)

    sign_in_with_password(client, operator)

    assert SignInFailures.objects.get(kind=SignInFailures.ACCOUNT).failures == 1


def test_wrong_codes_up_to_the_limit_lock_the_account_and_end_the_session(client, operator, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    give_authenticator(operator)
    sign_in_with_password(client, operator)

    answers = [type_code(client, WRONG_CODE) for _ in range(3)]

    assert answers[-1]["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert [event.action for event in events("user.lockout")] == ["user.lockout"]
    sign_in_with_password(client, operator)
    assert "_auth_user_id" not in client.session, "the account stays locked for the password too"


def test_a_recovery_code_signs_in_once(client, operator):
    _, recovery_codes = give_authenticator(operator)
    sign_in_with_password(client, operator)

    first = type_code(client, recovery_codes[0].upper())
    client.post(reverse("logout"))
    sign_in_with_password(client, operator)
    again = type_code(client, recovery_codes[0])

    assert first["Location"] == "/"
    assert "That code is not right" in again.content.decode()
    [used] = events("user.two_factor_recovery_code")
    assert used.after == {"recovery_codes_left": 9}


def test_a_user_turns_their_own_second_factor_off_with_a_code(client, operator):
    secret, recovery_codes = give_authenticator(operator)
    sign_in_with_password(client, operator)
    type_code(client, code_from(secret, steps_ahead=1))

    refused = client.post(reverse("two_factor_disable"), {"code": WRONG_CODE}, follow=True)
    client.post(reverse("two_factor_disable"), {"code": recovery_codes[0]})

    assert "two-factor sign-in stays on" in refused.content.decode()
    assert not services.has_two_factor(operator)
    assert not StaticDevice.objects.filter(user=operator).exists()
    assert [event.outcome for event in events("user.two_factor_disable")] == [AuditEvent.FAILURE, AuditEvent.SUCCESS]


@pytest.mark.parametrize(
    ("required", "role", "sent_to_set_up"),
    [
        ("none", "admin", False),
        ("admin", "admin", True),
        ("admin", "operator", False),
        ("operator", "operator", True),
        ("operator", "viewer", False),
        ("all", "viewer", True),
    ],
)
def test_console_require_2fa_names_the_roles_sent_to_set_up_after_the_password(
    client, make_user, settings, required, role, sent_to_set_up
):
    settings.CONSOLE_REQUIRE_2FA = required
    user = make_user(f"someone-{role}", role)

    sign_in_with_password(client, user)
    answer = client.get("/")

    if sent_to_set_up:
        assert answer["Location"] == "/accounts/two-factor/?next=%2F"
    else:
        assert answer.status_code == 200


def test_a_required_user_without_an_authenticator_can_only_set_one_up(client, admin, settings):
    settings.CONSOLE_REQUIRE_2FA = "admin"
    sign_in_with_password(client, admin)

    blocked = [client.get(path)["Location"] for path in ("/users/", "/keys/", "/audit/")]
    page = client.get(reverse("two_factor"))
    secret = client.post(reverse("two_factor_setup")).context["authenticator"].secret
    client.post(reverse("two_factor_confirm"), {"code": code_from(secret)})

    assert all(location.startswith("/accounts/two-factor/?next=") for location in blocked)
    assert "Your role must sign in with a second factor" in page.content.decode()
    assert client.get("/users/").status_code == 200, "the confirmed code finishes signing in"


def test_a_required_user_cannot_turn_their_second_factor_off(client, admin, settings):
    settings.CONSOLE_REQUIRE_2FA = "admin"
    secret, recovery_codes = give_authenticator(admin)
    sign_in_with_password(client, admin)
    type_code(client, code_from(secret, steps_ahead=1))

    answer = client.post(reverse("two_factor_disable"), {"code": recovery_codes[0]}, follow=True)

    assert "cannot be turned off" in answer.content.decode()
    assert services.has_two_factor(admin)


def test_an_admin_resets_another_users_second_factor_on_the_users_page(client_as, admin, operator):
    give_authenticator(operator)
    client = client_as(admin)

    listed = client.get(reverse("accounts:user_list")).content.decode()
    client.post(reverse("accounts:user_reset_two_factor", args=[operator.pk]))

    assert "Reset the second factor of olga-operator" in listed
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not StaticDevice.objects.filter(user=operator).exists()
    [reset] = events("user.two_factor_reset")
    assert (reset.actor, reset.target, reset.after) == (admin, operator.username, {"two_factor": False})


def test_an_operator_may_not_reset_a_second_factor(client_as, operator, viewer):
    give_authenticator(viewer)

    answer = client_as(operator).post(reverse("accounts:user_reset_two_factor", args=[viewer.pk]))

    assert answer.status_code == 403
    assert services.has_two_factor(viewer)


def test_the_api_resets_a_second_factor_for_admins_only(api_as, admin, operator):
    give_authenticator(operator)

    by_operator = api_as(operator).post(f"/api/v1/users/{admin.pk}/reset-two-factor/")
    own = api_as(admin).post(f"/api/v1/users/{admin.pk}/reset-two-factor/")
    answer = api_as(admin).post(f"/api/v1/users/{operator.pk}/reset-two-factor/")

    assert by_operator.status_code == 403
    assert own.status_code == 400
    assert answer.status_code == 200
    assert answer.json()["two_factor"] is False
    assert [event.target for event in events("user.two_factor_reset")] == [operator.username]


def test_api_tokens_are_not_asked_for_a_code(api_client, operator, settings):
    settings.CONSOLE_REQUIRE_2FA = "all"
    give_authenticator(operator)
    issued = services.issue_api_token(actor=None, user=operator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")

    answer = api_client.get("/api/v1/me/")

    assert answer.status_code == 200
    assert answer.json()["two_factor"] is True


def test_a_session_still_owing_its_code_is_nobody_to_the_api(client, operator):
    give_authenticator(operator)
    sign_in_with_password(client, operator)

    answer = client.get("/api/v1/me/")

    assert answer.status_code == 401


def ask_for_token(api_client, user, **fields):
    return api_client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD, **fields})


def test_a_password_alone_gets_no_api_token_for_an_account_with_a_second_factor(api_client, operator):
    give_authenticator(operator)

    answer = ask_for_token(api_client, operator)

    assert answer.status_code == 401 and "send its current code" in answer.json()["detail"]
    assert not operator.api_tokens.exists()


def test_the_password_and_a_current_code_get_an_api_token(api_client, operator):
    secret, _ = give_authenticator(operator)

    answer = ask_for_token(api_client, operator, code=code_from(secret, steps_ahead=1))

    assert answer.status_code == 200 and answer.json()["token"]
    assert operator.api_tokens.count() == 1


def test_a_wrong_code_at_the_token_endpoint_counts_as_a_failed_sign_in(api_client, operator):
    give_authenticator(operator)

    answer = ask_for_token(api_client, operator, code=WRONG_CODE)

    assert answer.status_code == 401 and not operator.api_tokens.exists()
    assert SignInFailures.objects.filter(kind=SignInFailures.ACCOUNT).get().failures == 1
    assert events("user.two_factor_code").get().outcome == AuditEvent.FAILURE


def test_no_api_token_before_a_role_that_requires_it_has_set_up_its_second_factor(api_client, operator, settings):
    settings.CONSOLE_REQUIRE_2FA = "operator"

    answer = ask_for_token(api_client, operator)

    assert answer.status_code == 401 and "set it up in the console first" in answer.json()["detail"]
    assert not operator.api_tokens.exists()
