"""The Segmenter's state and checks, on a stand-in backend (runtime/segmenter.py)."""
import numpy as np
import pytest

from lts_ros.errors import LtsError
from lts_ros.model.outputs import SegmentOutputs
from lts_ros.model.text import WordTokenizer
from lts_ros.runtime import Result, Segmenter

S = 128


class CountingBackend:
    """Counts text encodes; segments a fixed rectangle (model pixels rows 56..85, cols 20..59)."""

    name = "counting"

    def __init__(self):
        self.encodes = 0

    def encode_text(self, token_ids, attention_mask):
        self.encodes += 1
        return {"sentence": token_ids.astype(np.float32)}

    def segment(self, image, text):
        assert image.shape == (1, 3, S, S) and image.dtype == np.float32 and "sentence" in text
        logits = np.full((1, 1, S, S), -8.0, np.float32)
        logits[..., 56:86, 20:60] = 8.0
        return SegmentOutputs(logits, np.zeros((1, 1, S // 8, S // 8), np.float32), np.full((1, 1), 4.0, np.float32),
                              np.full((1, 1), -4.0, np.float32))


@pytest.fixture
def segmenter():
    tokenizer = WordTokenizer.build([f"object {i}" for i in range(20)] + ["the red mug"], 12)
    return Segmenter(CountingBackend(), tokenizer, S)


K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
RGB = np.zeros((480, 640, 3), np.uint8)


def test_segment_before_a_command_is_an_error(segmenter):
    with pytest.raises(LtsError, match="no command set"):
        segmenter.segment(RGB)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_command_is_an_error_and_keeps_the_previous_one(segmenter, text):
    segmenter.set_command("the red mug")
    with pytest.raises(LtsError, match="empty"):
        segmenter.set_command(text)
    assert segmenter.command == "the red mug"


def test_same_command_encodes_once(segmenter):
    segmenter.set_command("the red mug")
    segmenter.set_command("  the red mug ")  # same expression once stripped
    info = segmenter.cache_info()
    assert (info.misses, info.hits, segmenter.backend.encodes) == (1, 1, 1)
    segmenter.set_command("object 1")
    assert (segmenter.cache_info().misses, segmenter.backend.encodes) == (2, 2)


def test_text_cache_evicts_the_least_recently_used(segmenter):
    for i in range(16):
        segmenter.set_command(f"object {i}")
    segmenter.set_command("object 0")  # hit: now the most recent
    segmenter.set_command("object 16")  # miss: evicts object 1, the least recent
    segmenter.set_command("object 0")  # still cached
    assert segmenter.backend.encodes == 17
    segmenter.set_command("object 1")  # evicted: encoded again
    info = segmenter.cache_info()
    assert (segmenter.backend.encodes, info.hits, info.misses, info.currsize) == (18, 2, 18, 16)


def test_segment_returns_a_result_at_source_resolution(segmenter):
    segmenter.set_command("the red mug")
    depth_mm = np.full((480, 640), 1500, np.uint16)  # 16UC1 millimetres
    result = segmenter.segment(RGB, depth_mm, K, with_prior=True)
    assert isinstance(result, Result) and result.found and result.mask.shape == (480, 640)
    np.testing.assert_allclose(result.bbox, (100, 200, 299, 349), atol=2)
    assert result.centroid_3d[2] == pytest.approx(1.5)
    assert result.prior.shape == (480, 640) and result.prior.dtype == np.float32
    assert result.timings_ms.keys() == {"pre", "infer", "post"} and min(result.timings_ms.values()) >= 0
    assert segmenter.segment(RGB).prior is None


def test_infer_then_finish_is_segment_with_depth_paired_in_between(segmenter):
    segmenter.set_command("the red mug")
    depth_mm = np.full((480, 640), 1500, np.uint16)
    inference = segmenter.infer(RGB)  # no depth yet: a node pairs it while the model runs
    assert inference.frame_shape == (480, 640) and inference.timings_ms.keys() == {"pre", "infer"}
    split, whole = segmenter.finish(inference, depth_mm, K), segmenter.segment(RGB, depth_mm, K)
    assert (split.mask == whole.mask).all() and split.bbox == whole.bbox and split.score == whole.score
    np.testing.assert_array_equal(split.centroid_3d, whole.centroid_3d)
    assert split.timings_ms.keys() == {"pre", "infer", "post"}
    with pytest.raises(LtsError, match="does not match"):  # depth is checked against the inferred frame's size
        segmenter.finish(inference, np.ones((240, 320), np.float32), K)


@pytest.mark.parametrize("depth, k, named", [
    (np.ones((240, 320), np.float32), K, "does not match"),
    (np.ones((480, 640), np.float32), np.zeros((3, 3)), "fx=0.0"),
    (np.ones((480, 640), np.float32), None, "go together"),
])
def test_bad_depth_or_intrinsics_are_errors(segmenter, depth, k, named):
    segmenter.set_command("the red mug")
    with pytest.raises(LtsError, match=named):
        segmenter.segment(RGB, depth, k)


def test_bad_rgb_is_an_error(segmenter):
    segmenter.set_command("the red mug")
    with pytest.raises(LtsError, match="uint8, got float64"):
        segmenter.segment(np.zeros((480, 640, 3)))


def test_bad_threshold_and_backend_names_are_errors(tmp_path):
    with pytest.raises(LtsError, match="threshold"):
        Segmenter(CountingBackend(), WordTokenizer.build(["a"], 4), S, threshold=1.5)
    with pytest.raises(LtsError, match="unknown backend 'tensorflow'"):
        Segmenter.from_checkpoint(tmp_path / "m.safetensors", backend="tensorflow")
    with pytest.raises(LtsError, match="checkpoint not found"):
        Segmenter.from_checkpoint(tmp_path / "m.safetensors")


def test_mask_edges_snap_to_the_frame_unless_turned_off(segmenter):
    """The backend's rectangle is 6 px larger on every side than the bright object drawn in the frame: refined,
    the mask follows the object; with ``refine_edges`` off it is the model's own rectangle."""
    segmenter.set_command("the red mug")
    frame = RGB.copy()
    frame[206:344, 106:294] = (220, 40, 40)
    refined = segmenter.segment(frame)
    segmenter.refine_edges = False
    raw = segmenter.segment(frame)
    np.testing.assert_allclose(raw.bbox, (100, 200, 299, 349), atol=2)
    np.testing.assert_allclose(refined.bbox, (106, 206, 293, 343), atol=1)
    assert refined.found and refined.mask[206:344, 106:294].all()


def test_a_selection_sends_its_set_to_the_model_and_picks_the_member(segmenter):
    segmenter.set_command("the leftmost red mug")
    assert segmenter.reading.model_text() == "the red mug" and segmenter.reading.describe() == "red mug | 1st from left"
    assert segmenter.command == "the leftmost red mug"
    assert segmenter.segment(RGB).status == "ambiguous"  # one object found: a selection picks among several
    segmenter.set_command("the second red mug from the left")
    assert segmenter.segment(RGB).status == "ambiguous"  # one object found: no second one to point at
    segmenter.set_command("the red mug")  # the set itself: already encoded
    assert segmenter.reading.selection is None and segmenter.backend.encodes == 1
    segmenter.resolve_phrases = False  # the model reads the phrase whole
    segmenter.set_command("the leftmost red mug")
    assert segmenter.reading.model_text() == "the leftmost red mug" and segmenter.backend.encodes == 2
    segmenter.resolve_phrases = True
    segmenter.set_command("the second red mug from the left")
    inference = segmenter.infer(RGB)
    segmenter.set_command("the red mug")  # a new command between infer and finish: the frame keeps its own
    assert segmenter.finish(inference).status == "ambiguous"
    segmenter.clear_command()
    assert segmenter.reading is None


def test_a_command_it_cannot_read_is_answered_which_one_with_the_reason(segmenter):
    """The object is there and alone, but the command selects by words the reader could not place: no guess."""
    segmenter.set_command("the red mug between the other mug and the duck")
    result = segmenter.segment(RGB, np.ones((480, 640), np.float32), K)
    assert result.status == "ambiguous" and result.centroid_3d is None and result.bbox is None
    assert "did not understand" in result.reason and "between" in result.reason
    segmenter.set_command("the one on the left")  # nothing named: the model's mask is shown, no object given
    result = segmenter.segment(RGB)
    assert result.status == "ambiguous" and result.bbox is None and "no object named" in result.reason
    segmenter.set_command("the red mug")
    assert segmenter.segment(RGB).found and segmenter.segment(RGB).reason == ""


class ScriptedBackend(CountingBackend):
    """Answers each text with its own rectangles (model pixels y0, y1, x0, x1); counts segment calls."""

    def __init__(self, tokenizer, answers: dict[str, list[tuple[int, int, int, int]]]):
        super().__init__()
        self.answers = {tuple(tokenizer([text])[0][0].tolist()): boxes for text, boxes in answers.items()}
        self.segments = 0

    def segment(self, image, text):
        self.segments += 1
        logits = np.full((1, 1, S, S), -8.0, np.float32)
        for y0, y1, x0, x1 in self.answers[tuple(text["sentence"][0].astype(int).tolist())]:
            logits[..., y0:y1, x0:x1] = 8.0
        return SegmentOutputs(logits, np.zeros((1, 1, S // 8, S // 8), np.float32), np.full((1, 1), 4.0, np.float32),
                              np.full((1, 1), -4.0, np.float32))


def test_a_relation_answered_with_two_objects_is_settled_by_asking_for_its_anchor():
    tokenizer = WordTokenizer.build(["the mug left of the ball", "the mug right of the ball", "the red mug"], 12)
    two_mugs, ball = [(60, 80, 20, 40), (60, 80, 90, 110)], [(62, 78, 60, 72)]
    backend = ScriptedBackend(tokenizer, {"the mug left of the ball": two_mugs, "the mug right of the ball": two_mugs,
                                          "the ball": ball, "the mug": two_mugs, "the red mug": [two_mugs[0]]})
    segmenter = Segmenter(backend, tokenizer, S)
    segmenter.set_command("the mug right of the ball")
    result = segmenter.segment(RGB)
    assert result.found and result.bbox[0] > 400 and backend.segments == 3  # the ball and the mugs asked too
    segmenter.set_command("the mug left of the ball")
    assert segmenter.segment(RGB).bbox[0] < 200
    segmenter.set_command("the red mug")
    assert segmenter.segment(RGB).found and backend.segments == 7  # found at once: no anchor to ask for
    segmenter.resolve_phrases = False
    segmenter.set_command("the mug left of the ball")
    assert segmenter.segment(RGB).status == "ambiguous" and backend.segments == 8


def test_exclusions_drop_what_they_name_and_keep_the_one_left():
    """"the mug that is not red": the model finds the mugs, then the red mug; the other one is the answer. Where
    every mug found is excluded the answer is not_found, never the excluded object."""
    tokenizer = WordTokenizer.build(["the mug", "the red mug", "the blue mug", "the green mug"], 12)
    two_mugs = [(60, 80, 20, 40), (60, 80, 90, 110)]
    backend = ScriptedBackend(tokenizer, {"the mug": two_mugs, "the red mug": [two_mugs[0]],
                                          "the blue mug": [two_mugs[1]], "the green mug": []})
    segmenter = Segmenter(backend, tokenizer, S)
    for command in ("the mug that is not red", "not the red mug, the blue one", "the non-red mug"):
        segmenter.set_command(command)
        result = segmenter.segment(RGB)
        assert result.found and result.bbox[0] > 400, command
    segmenter.set_command("the mug that is neither red nor blue")
    result = segmenter.segment(RGB)
    assert result.status == "not_found" and result.reason == "only excluded objects fit"
    segmenter.set_command("the mug that is not green")  # nothing excluded is there: both mugs still fit
    assert segmenter.segment(RGB).status == "ambiguous"


def test_a_relation_found_by_the_model_is_checked_by_its_anchor_and_set():
    tokenizer = WordTokenizer.build(["the mug left of the ball"], 12)
    two_mugs, ball = [(60, 80, 20, 40), (60, 80, 90, 110)], [(62, 78, 60, 72)]
    backend = ScriptedBackend(tokenizer, {"the mug left of the ball": [two_mugs[1]], "the ball": ball,
                                          "the mug": two_mugs})
    segmenter = Segmenter(backend, tokenizer, S)
    segmenter.set_command("the mug left of the ball")  # the model is sure, of the mug right of the ball
    result = segmenter.segment(RGB)
    assert result.status == "ambiguous" and "not left of" in result.reason and backend.segments == 3
    backend.answers[tuple(tokenizer(["the mug left of the ball"])[0][0].tolist())] = [two_mugs[0]]
    assert segmenter.segment(RGB).found and backend.segments == 6


def test_lock_on_follows_the_object_a_relation_picked_with_one_model_pass_a_frame():
    """Locked on, the relation is not read again: the model segments "the mug" alone (one pass a frame, where the
    relation took three) and the mug first found stays the answer; when only the other mug is left it is lost, not
    replaced; the same command sent again starts a new track; lock-on off is the per-frame answer again."""
    tokenizer = WordTokenizer.build(["the mug right of the ball"], 12)
    two_mugs, ball = [(60, 80, 20, 40), (60, 80, 90, 110)], [(62, 78, 60, 72)]
    backend = ScriptedBackend(tokenizer, {"the mug right of the ball": two_mugs, "the ball": ball,
                                          "the mug": two_mugs})
    segmenter = Segmenter(backend, tokenizer, S)
    segmenter.lock_on = True
    segmenter.set_command("the mug right of the ball")
    first = segmenter.segment(RGB, stamp_s=10.0)
    assert first.status == "found" and first.bbox[0] > 400 and first.track.track_id == 1 and backend.segments == 3
    followed = segmenter.segment(RGB, stamp_s=10.1)
    assert followed.status == "tracking" and followed.bbox == first.bbox and backend.segments == 4
    assert followed.track.age_s == pytest.approx(0.1) and followed.timings_ms["lock"] >= 0
    backend.answers[tuple(tokenizer(["the mug"])[0][0].tolist())] = two_mugs[:1]  # the right mug is gone
    gone = segmenter.segment(RGB, stamp_s=10.2)
    assert gone.status == "lost" and gone.bbox is None and not gone.mask.any()
    assert gone.track.last_bbox == first.bbox and gone.track.unseen_s == pytest.approx(0.1)
    backend.answers[tuple(tokenizer(["the mug"])[0][0].tolist())] = two_mugs  # it is back
    segmenter.set_command("the mug right of the ball")  # sent again: a new track, the relation read again
    again = segmenter.segment(RGB, stamp_s=11.0)
    assert again.track.track_id == 2 and again.status != "tracking"
    segmenter.lock_on = False
    plain = segmenter.segment(RGB)
    assert plain.track is None and plain.status == again.status and "lock" not in plain.timings_ms


def test_a_refused_command_never_locks():
    tokenizer = WordTokenizer.build(["the red mug"], 12)
    segmenter = Segmenter(CountingBackend(), tokenizer, S)
    segmenter.lock_on = True
    segmenter.set_command("the red mug between the other mug and the duck")
    for _ in range(3):
        result = segmenter.segment(RGB)
        assert result.status == "ambiguous" and result.track is None and "did not understand" in result.reason
