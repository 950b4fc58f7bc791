"""Access keys limited by a RAM policy: every OSS route and KMS action is checked, over HTTP with the real SDKs."""

import io

import oss2
import pytest
from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config
from django.core.management import CommandError, call_command

from localcloud import accesskeys, keystore, ram
from localcloud.kms import api as kms_api
from localcloud.kms import permissions as kms_permissions
from localcloud.kms.actions import ACCOUNT_ID
from localcloud.models import CmkAlias
from localcloud.oss import permissions, routes

SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
RAM_DENIED = "You are not authorized to do this action. You should be authorized by RAM."


def document(*statements) -> dict:
    return {"Version": "1", "Statement": list(statements)}


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@pytest.fixture
def limited(localcloud, transactional_db):
    """limited(policy) -> oss2.Auth of a new key that may do only what `policy` allows, and its id."""

    def make(policy: dict):
        access_key_id, secret = accesskeys.create_access_key("limited", policy=policy)
        return oss2.Auth(access_key_id, secret), access_key_id

    return make


@pytest.fixture
def owned(bucket):
    """The owner's bucket holding `ledger.csv`, plain, and `sealed.csv`, under SSE-KMS with the default key."""
    bucket.put_object("ledger.csv", b"a,b\n")
    bucket.put_object("sealed.csv", b"c,d\n", headers={SSE: "KMS"})
    return bucket


def as_key(auth, localcloud, bucket) -> oss2.Bucket:
    return oss2.Bucket(auth, localcloud, bucket.bucket_name)


def denial(call) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as caught:
        call()
    assert caught.value.status == 403 and caught.value.code == "AccessDenied"
    return caught.value


def bucket_arn(name: str, key: str | None = None) -> str:
    base = f"acs:oss:cn-hangzhou:{ACCOUNT_ID}:{name}"
    return base if key is None else f"{base}/{key}"


# The tables


def test_every_oss_route_has_a_ram_action_so_none_escapes_enforcement():
    assert set(permissions.ROUTE_ACTIONS) == routes.all_route_names()
    assert all(action.startswith("oss:") for action, _ in permissions.ROUTE_ACTIONS.values())


def test_every_kms_action_names_the_resources_it_is_checked_on():
    assert set(kms_permissions.ACTION_RESOURCES) == set(kms_api.ACTIONS)


# OSS


def test_a_key_may_do_what_its_policy_allows_and_nothing_else(limited, localcloud, owned):
    auth, _ = limited(document(allow("oss:GetObject", f"acs:oss:*:*:{owned.bucket_name}/*")))
    reader = as_key(auth, localcloud, owned)

    assert reader.get_object("ledger.csv").read() == b"a,b\n"
    assert reader.head_object("ledger.csv").status == 200  # HEAD is oss:GetObject too
    refused = denial(lambda: reader.put_object("ledger.csv", b"x"))

    resource = bucket_arn(owned.bucket_name, "ledger.csv")
    why = f"(RAM policy of the access key: oss:PutObject on {resource}: no statement allows it.)"
    assert refused.message == f"{RAM_DENIED} {why}"
    assert refused.ec == "0003-00000202"
    assert owned.get_object("ledger.csv").read() == b"a,b\n"


def test_the_denial_carries_the_action_as_oss_reports_it(limited, localcloud, owned):
    auth, _ = limited(document(allow("oss:GetObject", "*")))
    refused = denial(lambda: as_key(auth, localcloud, owned).get_bucket_info())
    body = refused.body.decode() if isinstance(refused.body, bytes) else refused.body
    assert "<AccessDeniedDetail>" in body and "<AuthAction>oss:GetBucketInfo</AuthAction>" in body
    assert "<NoPermissionType>ImplicitDeny</NoPermissionType>" in body


def test_an_explicit_deny_wins_and_says_so(limited, localcloud, owned):
    deny = {"Effect": "Deny", "Action": "oss:DeleteObject", "Resource": f"acs:oss:*:*:{owned.bucket_name}/*"}
    auth, _ = limited(document(allow("oss:*", "acs:oss:*:*:*"), deny))
    writer = as_key(auth, localcloud, owned)

    writer.put_object("draft.csv", b"x")
    refused = denial(lambda: writer.delete_object("draft.csv"))
    assert "oss:DeleteObject" in refused.message and "an explicit Deny statement refuses it" in refused.message
    assert refused.ec == "0003-00000201"
    refused = denial(lambda: writer.batch_delete_objects(["draft.csv"]))  # DeleteMultipleObjects checks every key
    assert "oss:DeleteObject" in refused.message


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda b: list(oss2.ObjectIterator(b)), "oss:ListObjects"),
        (lambda b: list(oss2.ObjectIteratorV2(b)), "oss:ListObjects"),
        (lambda b: b.get_bucket_info(), "oss:GetBucketInfo"),
        (lambda b: b.get_bucket_encryption(), "oss:GetBucketEncryption"),
        (lambda b: b.get_object_acl("ledger.csv"), "oss:GetObjectAcl"),
        (lambda b: b.put_object_acl("ledger.csv", "private"), "oss:PutObjectAcl"),
        (lambda b: b.get_object_tagging("ledger.csv"), "oss:GetObjectTagging"),
        (lambda b: b.delete_object_tagging("ledger.csv"), "oss:DeleteObjectTagging"),
        (lambda b: b.get_object_meta("ledger.csv"), "oss:GetObject"),
        (lambda b: b.init_multipart_upload("big.bin"), "oss:PutObject"),
        (lambda b: b.list_multipart_uploads(), "oss:ListMultipartUploads"),
        (lambda b: b.append_object("log.txt", 0, b"x"), "oss:PutObject"),
        (lambda b: b.delete_bucket(), "oss:DeleteBucket"),
        (lambda b: b.get_bucket_versioning(), "oss:GetBucketVersioning"),
        (lambda b: b.list_object_versions(), "oss:ListObjectVersions"),
        (lambda b: b.get_bucket_lifecycle(), "oss:GetBucketLifecycle"),
        (lambda b: b.delete_bucket_lifecycle(), "oss:DeleteBucketLifecycle"),
        (lambda b: b.get_object("ledger.csv", params={"versionId": "null"}), "oss:GetObjectVersion"),
        (lambda b: b.delete_object("ledger.csv", params={"versionId": "null"}), "oss:DeleteObjectVersion"),
        (lambda b: b.get_object_acl("ledger.csv", params={"versionId": "null"}), "oss:GetObjectVersionAcl"),
    ],
)
def test_each_route_is_refused_with_its_own_action(limited, localcloud, owned, call, action):
    auth, _ = limited(document(allow("oss:ListBuckets")))
    assert action in denial(lambda: call(as_key(auth, localcloud, owned))).message


def test_reading_a_version_needs_the_version_action(limited, localcloud, owned):
    auth, _ = limited(document(allow(["oss:GetObject", "oss:PutObject"])))
    reader = as_key(auth, localcloud, owned)

    assert reader.get_object("ledger.csv").read() == b"a,b\n"
    version = {"versionId": "null"}
    assert "oss:GetObjectVersion" in denial(lambda: reader.get_object("ledger.csv", params=version)).message
    copy = denial(lambda: reader.copy_object(owned.bucket_name, "ledger.csv", "copy.csv", params=version))
    assert "oss:GetObjectVersion" in copy.message


def test_listing_buckets_needs_list_buckets(limited, localcloud, owned):
    auth, _ = limited(document(allow("oss:ListBuckets", "acs:oss:*:*:*")))
    assert owned.bucket_name in [b.name for b in oss2.Service(auth, localcloud).list_buckets().buckets]
    other, _ = limited(document(allow("oss:GetObject")))
    assert "oss:ListBuckets" in denial(lambda: oss2.Service(other, localcloud).list_buckets()).message


def test_a_copy_needs_get_object_on_its_source_and_put_object_on_its_destination(limited, localcloud, owned):
    name = owned.bucket_name
    auth, _ = limited(document(allow("oss:PutObject", f"acs:oss:*:*:{name}/copies/*")))
    writer = as_key(auth, localcloud, owned)
    refused = denial(lambda: writer.copy_object(name, "ledger.csv", "copies/ledger.csv"))
    assert f"oss:GetObject on {bucket_arn(name, 'ledger.csv')}" in refused.message

    auth, _ = limited(document(allow("oss:PutObject", f"acs:oss:*:*:{name}/copies/*"), allow("oss:GetObject")))
    as_key(auth, localcloud, owned).copy_object(name, "ledger.csv", "copies/ledger.csv")
    assert owned.get_object("copies/ledger.csv").read() == b"a,b\n"


def test_tags_and_an_acl_sent_with_an_upload_need_their_own_actions(limited, localcloud, owned):
    auth, _ = limited(document(allow("oss:PutObject")))
    writer = as_key(auth, localcloud, owned)
    refused = denial(lambda: writer.put_object("t.csv", b"x", headers={"x-oss-tagging": "team=data"}))
    assert "oss:PutObjectTagging" in refused.message
    refused = denial(lambda: writer.put_object("t.csv", b"x", headers={"x-oss-object-acl": "private"}))
    assert "oss:PutObjectAcl" in refused.message
    writer.put_object("t.csv", b"x")


def test_sse_kms_needs_the_kms_actions_oss_calls_for_the_caller(limited, localcloud, owned):
    name = owned.bucket_name
    default = keystore.default_key("cn-hangzhou")
    key_arn = f"acs:kms:cn-hangzhou:{ACCOUNT_ID}:key/{default.key_id}"
    auth, _ = limited(document(allow(["oss:PutObject", "oss:GetObject"], f"acs:oss:*:*:{name}/*")))
    user = as_key(auth, localcloud, owned)

    refused = denial(lambda: user.put_object("new.csv", b"x", headers={SSE: "KMS"}))
    assert refused.message.startswith("This request is forbidden by kms.")
    assert f"kms:GenerateDataKey on {key_arn}" in refused.message
    refused = denial(lambda: user.get_object("sealed.csv"))
    assert f"kms:Decrypt on {key_arn}" in refused.message
    assert user.head_object("sealed.csv").status == 200  # no data key is opened for a HEAD
    user.put_object("plain.csv", b"x")

    auth, _ = limited(
        document(
            allow(["oss:PutObject", "oss:GetObject"], f"acs:oss:*:*:{name}/*"),
            allow(["kms:GenerateDataKey", "kms:Decrypt"], key_arn),
        )
    )
    user = as_key(auth, localcloud, owned)
    user.put_object("new.csv", b"x", headers={SSE: "KMS"})
    assert user.get_object("sealed.csv").read() == b"c,d\n"


def test_the_bucket_default_encryption_counts_like_the_header(limited, localcloud, owned):
    owned.put_bucket_encryption(oss2.models.ServerSideEncryptionRule(sse_algorithm="KMS"))
    auth, _ = limited(document(allow("oss:PutObject")))
    user = as_key(auth, localcloud, owned)
    assert "kms:GenerateDataKey" in denial(lambda: user.put_object("new.csv", b"x")).message
    refused = denial(lambda: user.init_multipart_upload("big.bin"))
    assert "kms:GenerateDataKey" in refused.message


def test_a_policy_change_takes_effect_at_once_and_none_lifts_it(limited, localcloud, owned):
    auth, access_key_id = limited(document(allow("oss:GetObject")))
    user = as_key(auth, localcloud, owned)
    denial(lambda: user.put_object("x.csv", b"x"))

    assert accesskeys.set_policy(access_key_id, None)
    user.put_object("x.csv", b"x")
    assert accesskeys.set_policy(access_key_id, document(allow("oss:GetObject")))
    denial(lambda: user.put_object("x.csv", b"x"))


def test_a_malformed_policy_is_refused_before_anything_changes(limited, localcloud, owned):
    auth, access_key_id = limited(document(allow("oss:GetObject")))
    with pytest.raises(ram.PolicyError, match="Effect must be Allow or Deny"):
        accesskeys.set_policy(access_key_id, document({"Effect": "Maybe", "Action": "oss:*", "Resource": "*"}))
    with pytest.raises(ram.PolicyError, match="not JSON"):
        accesskeys.set_policy(access_key_id, "{")
    with pytest.raises(ram.PolicyError):
        accesskeys.create_access_key("bad", policy={"Statement": []})
    assert as_key(auth, localcloud, owned).get_object("ledger.csv").read() == b"a,b\n"


def test_the_command_sets_and_clears_a_policy(limited, localcloud, owned, tmp_path):
    auth, access_key_id = limited(None)
    user = as_key(auth, localcloud, owned)
    path = tmp_path / "policy.json"
    path.write_text('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*"}]}')

    out = io.StringIO()
    call_command("localcloud_key", "policy", access_key_id, "--file", str(path), stdout=out)
    assert "policy set" in out.getvalue()
    denial(lambda: user.put_object("x.csv", b"x"))
    call_command("localcloud_key", "policy", access_key_id, "--clear", stdout=io.StringIO())
    user.put_object("x.csv", b"x")

    path.write_text("[1]")
    with pytest.raises(CommandError, match="must be a JSON object"):
        call_command("localcloud_key", "policy", access_key_id, "--file", str(path))
    with pytest.raises(CommandError, match="No access key 'LTAInone'"):
        call_command("localcloud_key", "policy", "LTAInone", "--clear")


# KMS


@pytest.fixture
def kms_as(localcloud, settings):
    def make(access_key_id: str, secret: str) -> Client:
        config = Config(
            access_key_id=access_key_id,
            access_key_secret=secret,
            endpoint=localcloud.removeprefix("http://"),
            protocol="http",
            region_id=settings.LOCALCLOUD_REGION,
        )
        return Client(config)

    return make


def kms_refusal(call) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    assert caught.value.code == "Forbidden.RAM" and caught.value.data.get("statusCode", 403) == 403
    return caught.value


def test_kms_actions_are_checked_on_the_key_an_alias_names(localcloud, kms_as, transactional_db):
    mine = keystore.create_key(region="cn-hangzhou")
    other = keystore.create_key(region="cn-hangzhou")
    CmkAlias.objects.create(region="cn-hangzhou", name="alias/mine", cmk=mine)
    arn = f"acs:kms:cn-hangzhou:{ACCOUNT_ID}:key/{mine.key_id}"
    policy = document(allow(["kms:Describe*", "kms:Generate*"], arn))
    client = kms_as(*accesskeys.create_access_key("kms", policy=policy))

    assert client.describe_key(kms.DescribeKeyRequest(key_id="alias/mine")).body.key_metadata.key_id == mine.key_id
    blob = client.generate_data_key(kms.GenerateDataKeyRequest(key_id=mine.key_id)).body.ciphertext_blob
    refused = kms_refusal(lambda: client.describe_key(kms.DescribeKeyRequest(key_id=other.key_id)))
    assert f"kms:DescribeKey on acs:kms:cn-hangzhou:{ACCOUNT_ID}:key/{other.key_id}" in refused.message
    assert "User not authorized to operate on the specified resource" in refused.message
    refused = kms_refusal(lambda: client.decrypt(kms.DecryptRequest(ciphertext_blob=blob)))
    assert f"kms:Decrypt on {arn}" in refused.message
    assert "kms:ListKeys" in kms_refusal(lambda: client.list_keys(kms.ListKeysRequest())).message


def test_listing_keys_and_aliases_act_on_the_region_s_collections(localcloud, kms_as, transactional_db):
    client = kms_as(*accesskeys.create_access_key("kms", policy=document(allow("kms:List*", "*"))))
    client.list_keys(kms.ListKeysRequest())
    client.list_aliases(kms.ListAliasesRequest())
    refused = kms_refusal(lambda: client.create_key(kms.CreateKeyRequest()))
    assert f"kms:CreateKey on acs:kms:cn-hangzhou:{ACCOUNT_ID}:key" in refused.message
