"""Portal routes of firmware, under /o/<org>/."""

app_name = "firmware"

urlpatterns = []
