"""Lost write races become a 409 problem document, never a 500."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.errors import handle_write_conflict


@pytest.mark.parametrize("exc", [StaleDataError("row changed"), IntegrityError("INSERT", {}, Exception("dup"))])
def test_write_conflicts_are_409_problems(app, exc):
    with app.test_request_context("/api/v1/organisations/x", method="PATCH"):
        response = handle_write_conflict(exc)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 409
