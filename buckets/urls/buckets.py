from django.urls import path

from buckets.views import buckets as views

urlpatterns = [
    path("buckets/", views.bucket_list, name="bucket_list"),
    path("buckets/refresh/", views.bucket_refresh, name="bucket_refresh"),
    path("buckets/new/", views.bucket_create, name="bucket_create"),
    path("buckets/<int:pk>/", views.bucket_detail, name="bucket_detail"),
    path("buckets/<int:pk>/encryption/", views.bucket_encryption, name="bucket_encryption"),
    path("buckets/<int:pk>/older-versions/expire/", views.bucket_expire, name="bucket_expire"),
    path("buckets/<int:pk>/older-versions/remove/", views.bucket_expiry_remove, name="bucket_expiry_remove"),
]
