from django.urls import path

from buckets.views import connections as views

urlpatterns = [
    path("connections/", views.connection_list, name="connection_list"),
    path("connections/new/", views.connection_create, name="connection_create"),
    path("connections/<int:pk>/", views.connection_detail, name="connection_detail"),
    path("connections/<int:pk>/edit/", views.connection_edit, name="connection_edit"),
    path("connections/<int:pk>/delete/", views.connection_delete, name="connection_delete"),
    path("connections/<int:pk>/test/", views.connection_test, name="connection_test"),
]
