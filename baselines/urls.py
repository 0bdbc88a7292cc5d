"""Portal routes of baselines, under /o/<org>/."""

app_name = "baselines"

urlpatterns = []
