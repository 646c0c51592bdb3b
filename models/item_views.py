"""The views an item-level damage head is fitted on, in one place: the head's build reads the photos
through them and the 8-bit backbone's calibration reads its activation ranges through the same ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemViews:
    """The whole item view, then ``grid`` columns by ``rows`` rows of tiles, each squashed to ``size`` px."""

    grid: int
    rows: int
    size: int

    @property
    def longest(self) -> int:
        """The item view's longer side: the tiles' pixels, no more."""
        return max(self.grid, self.rows) * self.size

    @property
    def tag(self) -> str:
        """Names feature caches, so that features of other views are never read for these."""
        return f"_item{self.grid}x{self.rows}x{self.size}"


# a phone is about twice as long as wide: 2 columns by 3 rows (models/recipes/damage_head.md says why)
PHONE = ItemViews(grid=2, rows=3, size=224)
