"""MEDIA_STORAGE=s3 (django-storages' S3 backend) against a local S3 fake, moto's server on 127.0.0.1:
the file a customer sends lands in the bucket, private, under media/; it is served to the shop's own
people only, streamed from the bucket by the dashboard (never a redirect to a bucket URL); erasing the
customer deletes the object."""

import hashlib
import secrets

import boto3
import pytest
from django.test import Client, TestCase

from customers.models import ChannelAddress, Customer
from tests.fakes.meta_graph import FakeMetaGraph
from tests.test_media import META_ID, META_TOKEN, PNG, meta_media_message, only_media
from tests.webhook_posting import META_APP_SECRET, post_meta
from webhooks.models import MediaFile

moto_server = pytest.importorskip("moto.server")

KEY_ID, SECRET = "testing-key-id", "testing-secret"
REGION = "eu-west-3"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


@pytest.fixture
def bucket(s3, s3_endpoint, settings):
    name = f"coccinelle-media-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    # What coccinelle/settings.py builds from MEDIA_STORAGE=s3 and the MEDIA_S3_* variables. Changing
    # STORAGES resets Django's storages (and default_storage), so the FileField writes to the bucket.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": KEY_ID,
                "secret_key": SECRET,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "location": "media",
            },
        },
    }
    settings.WHATSAPP_APP_SECRET = META_APP_SECRET
    settings.WHATSAPP_ACCESS_TOKEN = META_TOKEN
    settings.PUBLIC_BASE_URL = ""
    return name


@pytest.fixture
def graph(settings):
    with FakeMetaGraph(access_token=META_TOKEN) as fake:
        settings.WHATSAPP_GRAPH_BASE = fake.url
        yield fake


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address=META_ID)
    return shop


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _keys(s3, bucket) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_settings_build_the_s3_storage_from_the_environment():
    import subprocess
    import sys

    from tests.test_settings_and_deploy import ROOT

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'coccinelle.settings'; django.setup();"
        "from django.conf import settings; print(repr(settings.STORAGES))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": "shop-media",
        "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_ACCESS_KEY_ID": KEY_ID,
        "MEDIA_S3_SECRET_ACCESS_KEY": SECRET,
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    storages = eval(result.stdout)  # noqa: S307 (our own repr of a dict of strings)
    assert storages["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "shop-media",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": REGION,
            "access_key": KEY_ID,
            "secret_key": SECRET,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "location": "media",
        },
    }
    assert storages["staticfiles"] == {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    missing = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "MEDIA_S3_BUCKET": ""},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0
    assert "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET" in missing.stderr
    wrong = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "MEDIA_STORAGE": "ftp"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0
    assert "MEDIA_STORAGE must be local or s3" in wrong.stderr


def test_a_meta_image_lands_in_the_bucket_is_served_to_the_shops_people_and_erased_with_the_customer(
    client, graph, bucket, s3, shop, owner, staff, other_owner, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"  # nothing may be written there
    assert _keys(s3, bucket) == []
    graph.add_media("1003383421387256", PNG, "image/png")
    post_meta(client, meta_media_message("1003383421387256", mime_type="image/png", sha256_of=PNG))

    media = only_media()
    assert media.state == "downloaded", media.error
    assert (media.content_type, media.size, media.sha256) == (
        "image/png",
        len(PNG),
        hashlib.sha256(PNG).hexdigest(),
    )
    assert type(media.file.storage._wrapped).__name__ == "S3Storage"
    # In the bucket, under media/, and only there.
    key = f"media/{media.file.name}"
    assert media.file.name.startswith(f"inbound-media/{shop.pk}/") and media.file.name.endswith(".png")
    assert _keys(s3, bucket) == [key]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PNG
    assert not (tmp_path / "media").exists()
    # Private: no ACL grant to everyone.
    grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert not any("AllUsers" in grant["Grantee"].get("URI", "") for grant in grants)

    url = f"/dashboard/media/{media.pk}/"
    for user in (owner, staff):
        response = _signed_in(user).get(url)
        assert response.status_code == 200  # streamed from the bucket, not a redirect to it
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "Location" not in response
    assert _signed_in(other_owner).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page

    customer = media.interaction.customer
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _signed_in(owner).post(f"/dashboard/customers/{customer.pk}/erase/", {"confirm": "on"})
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not MediaFile.objects.exists()
    assert _keys(s3, bucket) == []


def test_an_object_missing_from_the_bucket_is_a_404(client, graph, bucket, s3, shop, owner):
    graph.add_media("4242", PNG, "image/png")
    post_meta(client, meta_media_message("4242", mime_type="image/png"))
    media = only_media()
    assert media.state == "downloaded", media.error
    s3.delete_object(Bucket=bucket, Key=f"media/{media.file.name}")
    assert _signed_in(owner).get(f"/dashboard/media/{media.pk}/").status_code == 404
