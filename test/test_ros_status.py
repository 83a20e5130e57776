"""The ~/status contract (ros/status.py): every state round-trips; ambiguous and not_found never carry a target."""
import numpy as np
import pytest
from std_msgs.msg import Header

from lts_ros.data.transforms import Letterbox
from lts_ros.ros.status import STATES, FrameStatus, status_message
from lts_ros.runtime.postprocess import build_result

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])


def result_with(regions: int, presence_logit: float, several_logit: float = -4.0):
    logits = np.full((640, 640), -8.0, np.float32)
    logits[100:200, 100:200] = 8.0
    if regions == 2:
        logits[300:380, 400:480] = 8.0
    return build_result(logits, presence_logit, several_logit, Letterbox.fit(640, 640, 640), 0.5,
                        np.ones((640, 640), np.float32), K)


def round_trip(result) -> FrameStatus:
    header = Header(frame_id="camera_color_optical_frame")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    return FrameStatus.from_msg(status_message(header, "/lts_node", "the mug", 3, result, "", 20.0, 15.0))


@pytest.mark.parametrize("regions, presence, state", [(1, 4.0, "found"), (2, 4.0, "ambiguous"),
                                                      (1, -4.0, "not_found")])
def test_each_state_round_trips(regions, presence, state):
    status = round_trip(result_with(regions, presence))
    assert status.state == state and state in STATES and status.found == (state == "found")
    assert status.stamp_ns == 12 * 10**9 + 345 and status.command == "the mug" and status.command_seq == 3
    assert status.score == pytest.approx(1 / (1 + np.exp(-presence)), abs=1e-4)
    assert status.several_score == pytest.approx(1 / (1 + np.exp(4.0)), abs=1e-4)
    assert len(status.candidates) == regions and status.candidates[0] == (100, 100, 199, 199)
    if state == "found":
        assert status.bbox == (100, 100, 199, 199) and status.centroid_m is not None
    else:  # a robot must not act on these: no box, no pixel or 3D target
        assert status.bbox is None and status.centroid_px is None and status.centroid_m is None
