"""The object browser with keys holding control characters (OSS takes any UTF-8 key): each shows as its control
picture, and the links and the filter form carry the exact key or folder."""

from buckets.views.objects import object_url
from console.testing.cloud import new_bucket
from console.testing.objects import put


def test_the_object_browser_shows_control_characters_of_keys_visibly_and_links_the_exact_key(
    cloud_connection, client_as, viewer
):
    bucket = new_bucket(cloud_connection, "pages-raw-keys")
    put(bucket, "logs\x0c/form\x0cfeed.txt")
    put(bucket, "start\x01of heading.txt")
    client = client_as(viewer)

    top = client.get(object_url("buckets:object_list", bucket)).content.decode()
    folder = client.get(object_url("buckets:object_list", bucket, prefix="logs\x0c/")).content.decode()
    detail = client.get(object_url("buckets:object_detail", bucket, key="logs\x0c/form\x0cfeed.txt"))

    assert "logs␌/" in top and "start␁of heading.txt" in top and "?prefix=logs%0C/" in top
    assert "form␌feed.txt" in folder and "?key=logs%0C/form%0Cfeed.txt" in folder
    assert detail.status_code == 200 and "<code>logs␌/form␌feed.txt</code>" in detail.content.decode()
    assert 'name="prefix" value="logs\x0c/"' in folder
    shown = (top + folder + detail.content.decode()).replace('value="logs\x0c/"', "")
    assert "\x01" not in shown and "\x0c" not in shown
