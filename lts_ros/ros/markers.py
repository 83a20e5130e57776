"""``~/marker``: the target in RViz / Foxglove, a sphere at its 3D centroid and the command written above it."""
from __future__ import annotations

import numpy as np
from visualization_msgs.msg import Marker

NAMESPACE = "lts_target"
SPHERE_M = 0.04
TEXT_M = 0.03  # letter height
TEXT_ABOVE_M = 0.06  # -y is up in an optical frame (REP-103)


def target_markers(header, centroid_m: np.ndarray, command: str) -> list[Marker]:
    """A sphere (id 0) and a text (id 1) for the found target, in the frame's optical frame."""
    sphere = Marker(header=header, ns=NAMESPACE, id=0, type=Marker.SPHERE, action=Marker.ADD)
    sphere.pose.position.x, sphere.pose.position.y, sphere.pose.position.z = (float(v) for v in centroid_m)
    sphere.pose.orientation.w = 1.0
    sphere.scale.x = sphere.scale.y = sphere.scale.z = SPHERE_M
    sphere.color.r, sphere.color.g, sphere.color.b, sphere.color.a = 1.0, 0.0, 1.0, 0.8
    text = Marker(header=header, ns=NAMESPACE, id=1, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD, text=command)
    text.pose.position.x, text.pose.position.y, text.pose.position.z = (float(v) for v in centroid_m)
    text.pose.position.y -= TEXT_ABOVE_M
    text.pose.orientation.w = 1.0
    text.scale.z = TEXT_M
    text.color.r = text.color.g = text.color.b = text.color.a = 1.0
    return [sphere, text]


def clear_markers(header) -> Marker:
    """Removes the target's markers (the object is no longer found)."""
    return Marker(header=header, ns=NAMESPACE, action=Marker.DELETEALL)
