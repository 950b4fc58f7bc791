from django.db import migrations

INDEXES = {
    "localcloud_object_key_c": 'localcloud_storedobject (bucket_id, "key" COLLATE "C")',
    "localcloud_upload_key_c": 'localcloud_multipartupload (bucket_id, "key" COLLATE "C", upload_id COLLATE "C")',
}


def create_indexes(apps, schema_editor):
    """Listings order keys by code point (COLLATE "C"); only an index with that collation serves them a page
    at a time on PostgreSQL. SQLite compares bytes already, so its plain index does."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("localcloud", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
