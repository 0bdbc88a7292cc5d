"""Portal routes of firmware, under /o/<org>/."""

from django.urls import path

from firmware import views

app_name = "firmware"

urlpatterns = [
    path("firmware/", views.ImageListView.as_view(), name="image-list"),
    path("firmware/add/", views.ImageCreateView.as_view(), name="image-add"),
    path("firmware/<int:pk>/", views.ImageDetailView.as_view(), name="image-detail"),
    path("firmware/<int:pk>/link/", views.ImageLinkView.as_view(), name="image-link"),
    path("firmware/<int:pk>/delete/", views.ImageDeleteView.as_view(), name="image-delete"),
]
