"""Object pages of a bucket; the object key is always the `key` query parameter, as keys contain slashes."""

from django.urls import path

from buckets.views import objects as views

urlpatterns = [
    path("buckets/<int:pk>/objects/", views.object_list, name="object_list"),
    path("buckets/<int:pk>/object/", views.object_detail, name="object_detail"),
    path("buckets/<int:pk>/upload/", views.object_upload, name="object_upload"),
    path("buckets/<int:pk>/object/encryption/", views.object_encryption, name="object_encryption"),
    path("buckets/<int:pk>/object/download/", views.object_download, name="object_download"),
]
