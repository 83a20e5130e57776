"""Was the grasp a success? Judged from the simulator's ground truth, as the closed-loop issue defines it: the
named object at least LIFT_M above the table and no other object moved more than DISTURB_M."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIFT_M = 0.10
DISTURB_M = 0.03
SUCCESS, WRONG_OBJECT, MISSED, DISTURBED = "success", "wrong_object", "grasp_missed", "disturbed_others"


@dataclass(frozen=True)
class Outcome:
    result: str  # success | wrong_object | grasp_missed | disturbed_others
    target_lift_m: float  # how far the target's lowest point rose above the table
    moved: dict[int, float]  # other objects that moved more than DISTURB_M: id -> metres
    lifted_other: int | None  # an object other than the target lifted LIFT_M, if any

    @property
    def success(self) -> bool:
        return self.result == SUCCESS


def judge(target: int, bottom_z: dict[int, float], before: dict[int, np.ndarray], after: dict[int, np.ndarray],
          table_z: float) -> Outcome:
    """``bottom_z``: each object's lowest point (world z) after the lift; ``before`` / ``after``: each object's
    base position (world, metres) before the grasp and after the lift."""
    lift = {i: z - table_z for i, z in bottom_z.items()}
    moved = {i: float(np.linalg.norm(np.asarray(after[i]) - np.asarray(before[i]))) for i in before if i != target}
    moved = {i: d for i, d in moved.items() if d > DISTURB_M}
    lifted_other = next((i for i, h in lift.items() if i != target and h >= LIFT_M), None)
    if lifted_other is not None:
        result = WRONG_OBJECT
    elif lift[target] < LIFT_M:
        result = MISSED
    elif moved:
        result = DISTURBED
    else:
        result = SUCCESS
    return Outcome(result, lift[target], moved, lifted_other)
