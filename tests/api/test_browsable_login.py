"""The demo owner can log in to the browsable API and see the organization's stations."""

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME, seed_demo


def test_the_demo_owner_logs_in_and_lists_the_demo_stations(client, db):
    seed_demo()
    response = client.post(
        "/api-auth/login/",
        {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "next": "/api/v1/stations/"},
    )
    assert response.status_code == 302
    listed = client.get("/api/v1/stations/", HTTP_ACCEPT="application/json").json()
    assert [s["ocpp_id"] for s in listed["results"]] == [
        "DEMO-CS-01",
        "DEMO-CS-02",
        "DEMO-CS-03",
        "DEMO-CS-04",
    ]
