"""The grasp client's wait for the arm (sim/patience.py): a slow arm that keeps coming closer is waited for past
the stall time, a stuck or oscillating one is given up on after it, and a creeping one at the cap."""
from lts_ros.sim.patience import Patience


def wait(distances, stall_s=8.0, cap=4.0, progress=0.005, period_s=0.5):
    """When the wait ends (s) for an arm whose distance at each period is ``distances(t)``; None: it arrived."""
    patience = Patience(stall_s, cap, progress, start_s=0.0)
    t = 0.0
    while patience.waiting(distances(t), t):
        if distances(t) < 0.01:
            return None
        t += period_s
    return t


def test_a_slow_arm_that_keeps_approaching_is_waited_for_past_the_stall_time():
    assert wait(lambda t: max(0.0, 2.0 - 0.1 * t)) is None  # 20 s to arrive, 8 s without progress allowed


def test_a_stuck_arm_is_given_up_on_once_it_has_come_no_closer_for_the_stall_time():
    assert wait(lambda t: 1.0) == 8.0
    assert wait(lambda t: max(0.5, 2.0 - 0.5 * t)) == 3.0 + 8.0  # approaches for 3 s, then blocked


def test_an_arm_swinging_about_the_target_without_settling_counts_as_stalled():
    assert wait(lambda t: 0.3 + 0.2 * (int(2 * t) % 2)) == 8.0


def test_an_arm_creeping_closer_forever_is_given_up_on_at_the_cap():
    assert wait(lambda t: 1.0 + 1.0 / (1.0 + t)) == 32.0
