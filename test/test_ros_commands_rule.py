"""The rule that gives each frame its command (lts_ros.ros.commands), and the duplicate filter of the command
subscription (lts_ros.ros.latched), on hand-built arrivals: no ROS graph."""
from lts_ros.ros.commands import CLOCK_TOLERANCE_NS, CommandLog
from lts_ros.ros.latched import SeenMessages

S = 10**9


def test_a_frame_is_answered_with_the_command_in_force_when_it_was_captured():
    log = CommandLog()
    red = log.add("the red mug", arrived_ns=10 * S, sent_ns=0)
    seen_before_blue = log.seq
    blue = log.add("the blue mug", arrived_ns=11 * S, sent_ns=0)
    # stamped before blue arrived, received after it: still red
    assert log.for_frame(int(10.9 * S), int(11.05 * S), log.seq).command == red
    # stamped at or after blue's arrival: blue
    assert log.for_frame(11 * S, int(11.01 * S), log.seq).command == blue
    # received before blue arrived (whatever its stamp says): blue cannot apply
    assert log.for_frame(int(11.2 * S), int(11.2 * S), seen_before_blue).command == red
    # captured before any command: none (the node does not run the model)
    assert log.for_frame(9 * S, int(9.1 * S), log.seq).command is None


def test_stamps_on_another_clock_fall_back_to_arrival_order():
    log = CommandLog()
    log.add("the red mug", arrived_ns=1_000 * S, sent_ns=0)
    seen = log.seq
    blue = log.add("the blue mug", arrived_ns=1_001 * S, sent_ns=0)
    choice = log.for_frame(5 * S, 1_002 * S, log.seq)  # a device clock, or a bag replayed without /clock
    assert choice.other_clock and choice.command == blue
    assert log.for_frame(5 * S, 1_002 * S, seen).command.text == "the red mug"
    near = log.for_frame(1_001 * S, 1_001 * S + CLOCK_TOLERANCE_NS, log.seq)  # late, but the same clock
    assert not near.other_clock and near.command == blue


def test_arrival_numbers_and_the_kept_history():
    log = CommandLog(history=3)
    for i in range(5):
        log.add(f"the block {i}", arrived_ns=i * S, sent_ns=i)
    assert log.seq == 5 and log.latest.text == "the block 4" and log.latest.seq == 5
    assert log.for_frame(int(2.5 * S), int(2.5 * S), log.seq).command.text == "the block 2"
    assert log.for_frame(int(0.5 * S), int(0.5 * S), log.seq).command is None  # older than the history kept


def test_a_message_heard_through_two_readers_counts_once():
    seen = SeenMessages(capacity=2)
    assert seen.first_time(b"gid-a", 1) and not seen.first_time(b"gid-a", 1)
    assert seen.first_time(b"gid-b", 1) and seen.first_time(b"gid-a", 2)
    assert seen.first_time(b"gid-a", 1)  # forgotten beyond the capacity
    assert seen.first_time(None, None) and seen.first_time(None, None)
