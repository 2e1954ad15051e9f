"""Rebuild the search index of places (after a restore, or a change of the normalisation)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fengqiao.areas.models import Place
from fengqiao.core.models import SearchGram
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document

CHUNK = 2000


class Command(BaseCommand):
    help = "Rebuild the search text and search index of every place."

    def handle(self, *args: Any, **options: Any) -> None:
        total = grams = 0
        with transaction.atomic():
            SearchGram.objects.filter(label="areas.place").delete()
            last = 0
            while True:
                batch = list(Place.objects.filter(pk__gt=last).order_by("pk")[:CHUNK])
                if not batch:
                    break
                for p in batch:
                    p.search_text = search_document(p.name, p.address, p.notes, p.contact_name)
                Place.objects.bulk_update(batch, ["search_text"], batch_size=CHUNK)
                grams += search_index(
                    label="areas.place", rows=[(p.pk, p.search_text) for p in batch], fresh=True
                )
                total += len(batch)
                last = batch[-1].pk
        self.stdout.write(self.style.SUCCESS(f"Reindexed {total} places ({grams} index rows)."))
