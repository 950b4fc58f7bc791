"""Object keys with control characters, as OSS takes them: oss2 writes them raw into its XML bodies (XML 1.0 cannot
carry them), localcloud parses those bodies tolerantly, and listings give them back url-encoded (encoding-type=url),
which oss2 decodes."""

import oss2
import pytest

from localcloud import xml

RAW_KEYS = ["cr\rkey", "folder\x0c/inside", "form\x0cfeed.txt", "start\x01of heading"]  # in listing order


def put_objects(bucket, keys):
    for key in keys:
        bucket.put_object(key, key.encode())


def listed(iterator) -> list[str]:
    return [entry.key for entry in iterator]


def test_keys_with_control_characters_are_stored_and_listed_back_unchanged(bucket):
    put_objects(bucket, RAW_KEYS)

    assert listed(oss2.ObjectIterator(bucket)) == RAW_KEYS
    assert listed(oss2.ObjectIteratorV2(bucket)) == RAW_KEYS
    assert bucket.get_object("form\x0cfeed.txt").read() == b"form\x0cfeed.txt"


def test_common_prefixes_and_markers_with_control_characters_round_trip(bucket):
    put_objects(bucket, RAW_KEYS)

    top = bucket.list_objects_v2(delimiter="/")
    inside = bucket.list_objects(prefix="folder\x0c/", delimiter="/")
    after = listed(oss2.ObjectIterator(bucket, marker="folder\x0c/inside", max_keys=1))

    assert top.prefix_list == ["folder\x0c/"]
    assert [entry.key for entry in inside.object_list] == ["folder\x0c/inside"]
    assert after == ["form\x0cfeed.txt", "start\x01of heading"]


def test_batch_delete_takes_raw_control_characters_in_its_body_and_reports_each_key(bucket):
    put_objects(bucket, [*RAW_KEYS, "kept"])

    result = bucket.batch_delete_objects(RAW_KEYS)

    assert result.deleted_keys == RAW_KEYS
    assert listed(oss2.ObjectIteratorV2(bucket)) == ["kept"]


def test_batch_delete_still_refuses_a_key_oss_refuses(bucket):
    with pytest.raises(oss2.exceptions.OssError) as refused:
        bucket.batch_delete_objects(["nul\x00key"])

    assert refused.value.code == "InvalidObjectName"


def test_a_multipart_upload_of_such_a_key_is_listed_and_completes(bucket):
    key = "video\x0cpart.bin"
    upload = bucket.init_multipart_upload(key)
    part = bucket.upload_part(key, upload.upload_id, 1, b"only part")

    uploads = list(oss2.MultipartUploadIterator(bucket))
    parts = list(oss2.PartIterator(bucket, key, upload.upload_id))
    bucket.complete_multipart_upload(key, upload.upload_id, [oss2.models.PartInfo(1, part.etag)])

    assert [(entry.key, entry.upload_id) for entry in uploads] == [(key, upload.upload_id)]
    assert [entry.part_number for entry in parts] == [1]
    assert listed(oss2.ObjectIteratorV2(bucket)) == [key]


def test_character_references_to_control_characters_are_taken_like_the_raw_characters():
    root = xml.parse(b"<Delete><Object><Key>a&#12;b&#x1;c&#13;</Key></Object></Delete>")

    assert root.find("Object/Key").text == "a\x0cb\x01c\r"


def test_a_body_holding_private_use_characters_keeps_them_beside_the_control_characters():
    root = xml.parse("<Delete><Object><Key>\ue000\x0c\ue001</Key></Object></Delete>".encode())

    assert root.find("Object/Key").text == "\ue000\x0c\ue001"


def test_a_body_that_is_not_xml_for_other_reasons_is_still_refused():
    with pytest.raises(xml.XmlError):
        xml.parse(b"<Delete><Object><Key>\x0c</Object></Delete>")
