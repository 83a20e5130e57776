"""python -m lts_ros.bench.real_photos: real photos (scikit-image's samples), present and absent objects answered by
the shipped model, written as a page with an image strip per photo."""
from lts_ros.bench.real_photos import ABSENT, PHOTOS, answer_photos, write_page
from lts_ros.checkpoint import shipped_checkpoint
from lts_ros.runtime.segmenter import Segmenter


def test_every_command_of_a_photo_is_answered_and_the_page_counts_the_absent_ones(tmp_path):
    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend="torch")
    chelsea = [p for p in PHOTOS if p.name == "chelsea"]
    rows = answer_photos(segmenter, tuple(chelsea))
    assert [r["command"] for r in rows] == [*chelsea[0].present, *ABSENT]
    assert all(r["status"] in ("found", "ambiguous", "not_found") and r["mask"].shape == (300, 451) for r in rows)
    page = write_page(rows, tmp_path / "real-photos.md", tmp_path / "images", "torch")
    text = page.read_text()
    held = sum(r["status"] == "not_found" for r in rows if not r["present"])
    assert f"**Absent objects: {held} of {len(ABSENT)} commands answered `not_found`.**" in text
    assert (tmp_path / "images" / "chelsea.jpg").stat().st_size > 10_000
    assert "| the red block | no |" in text
