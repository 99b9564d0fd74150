from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory


def test_token_roundtrip(client):
    user = UserFactory(email="Someone@Example.org")
    r = client.post("/api/v1/auth/token", json={"email": "someone@example.ORG", "password": TEST_PASSWORD})
    assert r.status_code == 200, r.json
    token = r.json["access_token"]
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json
    assert r.json["email"] == user.email
