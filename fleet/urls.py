"""Portal routes of fleet, under /o/<org>/."""

app_name = "fleet"

urlpatterns = []
