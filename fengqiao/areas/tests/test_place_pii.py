"""A place's contact phone is encrypted at rest and masked on screen."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_place_phone_is_stored_encrypted(j):
    from fengqiao.factories import place

    p = place(j, contact_phone="13812345678")
    with connection.cursor() as cur:
        cur.execute("SELECT contact_phone FROM areas_place WHERE id = %s", [p.pk])
        stored = cur.fetchone()[0]
    assert "13812345678" not in stored
    p.refresh_from_db()
    assert p.contact_phone == "13812345678"
