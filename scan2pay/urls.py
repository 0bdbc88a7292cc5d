"""Portal routes of Scan2Pay, under /o/<org>/: the sticker sheet of a site."""

from django.urls import path

from scan2pay import views

app_name = "scan2pay"

urlpatterns = [
    path("sites/<int:pk>/stickers/", views.StickerSheetView.as_view(), name="site-stickers"),
]
