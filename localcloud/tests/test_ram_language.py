"""The RAM policy language localcloud enforces (localcloud/ram.py): pure functions, no server, no database."""

import json
import re

import pytest

from localcloud import ram

BUCKET_ARN = "acs:oss:cn-hangzhou:1000000000000000:reports"
OBJECT_ARN = f"{BUCKET_ARN}/2024/ledger.csv"
KEY_ARN = "acs:kms:cn-hangzhou:1000000000000000:key/key-abc"


def policy(*statements) -> ram.Policy:
    return ram.parse({"Version": "1", "Statement": list(statements)})


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


@pytest.mark.parametrize(
    ("action", "resource", "allowed"),
    [
        ("oss:GetObject", OBJECT_ARN, True),
        ("oss:GetObject", "acs:oss:cn-hangzhou:1000000000000000:other/2024/ledger.csv", False),
        ("oss:PutObject", OBJECT_ARN, False),
        ("oss:GetObject", BUCKET_ARN, False),  # `bucket/*` is the objects, not the bucket
    ],
)
def test_an_allow_statement_grants_exactly_its_actions_on_its_resources(action, resource, allowed):
    assert policy(allow("oss:GetObject", "acs:oss:*:*:reports/*")).allows(action, resource) is allowed


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("oss:*", "oss:PutBucketEncryption", True),
        ("oss:*", "kms:Decrypt", False),
        ("kms:List*", "kms:ListAliases", True),
        ("kms:List*", "kms:DescribeKey", False),
        ("kms:?ecrypt", "kms:Decrypt", True),
        ("kms:?ecrypt", "kms:ReDecrypt", False),
        ("*", "kms:Decrypt", True),
        ("OSS:getobject", "oss:GetObject", True),  # actions are case-insensitive, as in RAM
        ("oss:GetObject", "OSS:GETOBJECT", True),
    ],
)
def test_actions_match_with_wildcards_and_without_regard_to_case(pattern, action, allowed):
    assert policy(allow(pattern, "*")).allows(action, OBJECT_ARN) is allowed


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        ("acs:oss:*:*:reports", BUCKET_ARN, True),
        ("acs:oss:*:*:reports", OBJECT_ARN, False),
        ("acs:oss:*:*:reports/2024/*", OBJECT_ARN, True),
        ("acs:oss:*:*:reports/2023/*", OBJECT_ARN, False),
        ("acs:oss:*:*:*", OBJECT_ARN, True),
        ("acs:oss:*:*:Reports", BUCKET_ARN, False),  # resources are matched exactly
        ("acs:kms:cn-hangzhou:1000000000000000:key/key-abc", KEY_ARN, True),
        ("acs:kms:cn-hangzhou:*:key/*", KEY_ARN, True),
        ("acs:kms:cn-shanghai:*:key/*", KEY_ARN, False),
        ("acs:kms:*:*:*", KEY_ARN, True),
        ("*", KEY_ARN, True),
        ("acs:oss:*:*:report?", BUCKET_ARN, True),
    ],
)
def test_resources_match_with_wildcards(pattern, resource, allowed):
    assert policy(allow("*", pattern)).allows("oss:GetObject", resource) is allowed


def test_an_explicit_deny_wins_over_any_allow_whatever_the_order():
    statements = [allow("oss:*", "acs:oss:*:*:*"), deny("oss:DeleteObject", "acs:oss:*:*:reports/*")]
    for ordered in (statements, statements[::-1]):
        document = policy(*ordered)
        assert document.decide("oss:DeleteObject", OBJECT_ARN) == ram.EXPLICIT_DENY
        assert document.decide("oss:GetObject", OBJECT_ARN) == ram.ALLOWED


def test_what_no_statement_allows_is_denied_implicitly():
    document = policy(allow("oss:GetObject", "*"))
    assert document.decide("oss:PutObject", OBJECT_ARN) == ram.IMPLICIT_DENY
    assert policy(deny("oss:PutObject", "*")).decide("oss:GetObject", OBJECT_ARN) == ram.IMPLICIT_DENY


def test_lists_of_actions_and_resources_match_any_of_their_items():
    document = policy(allow(["oss:GetObject", "oss:PutObject"], ["acs:oss:*:*:logs/*", "acs:oss:*:*:reports/*"]))
    assert document.allows("oss:PutObject", OBJECT_ARN)
    assert not document.allows("oss:DeleteObject", OBJECT_ARN)


def test_a_document_is_read_from_its_json_text_too():
    text = json.dumps({"Version": "1", "Statement": [allow("oss:GetObject", "*")]})
    assert ram.parse(text).allows("oss:GetObject", OBJECT_ARN)


def test_regular_expression_characters_in_patterns_are_literal():
    document = policy(allow("oss:GetObject", "acs:oss:*:*:a.b/(x)+*"))
    assert document.allows("oss:GetObject", "acs:oss:r:1:a.b/(x)+1")
    assert not document.allows("oss:GetObject", "acs:oss:r:1:aXb/(x)+1")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "is not JSON"),
        ("[]", "must be a JSON object"),
        ({"Statement": [allow("oss:GetObject", "*")]}, '"Version": "1"'),
        ({"Version": "2012-10-17", "Statement": [allow("oss:GetObject", "*")]}, '"Version": "1"'),
        ({"Version": "1", "Statement": []}, "non-empty Statement list"),
        ({"Version": "1", "Statement": {}}, "non-empty Statement list"),
        ({"Version": "1", "Statement": [allow("oss:GetObject", "*")], "Id": "x"}, "unknown field 'Id'"),
        ({"Version": "1", "Statement": ["Allow"]}, "Statement 1 must be an object"),
        ({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:A"}]}, "Statement 1 has no Resource"),
        ({"Version": "1", "Statement": [{**allow("oss:GetObject", "*"), "Effect": "allow"}]}, "Allow or Deny"),
        ({"Version": "1", "Statement": [allow([], "*")]}, "Action must be a non-empty string or a list"),
        ({"Version": "1", "Statement": [allow("oss:GetObject", [""])]}, "Resource must be a non-empty string"),
        ({"Version": "1", "Statement": [allow("GetObject", "*")]}, "'GetObject' is not service:Name"),
        (
            {"Version": "1", "Statement": [allow("oss:GetObject", "*"), {**allow("oss:A", "*"), "Condition": {}}]},
            "Statement 2 has the field 'Condition', which localcloud does not enforce",
        ),
        ("x" * (ram.MAX_DOCUMENT_CHARACTERS + 1), "longer than 6144 characters"),
    ],
)
def test_a_malformed_document_is_refused_with_what_is_wrong(document, message):
    with pytest.raises(ram.PolicyError, match=re.escape(message)):
        ram.parse(document)
