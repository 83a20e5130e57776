"""What can stand on the tabletop and how pybullet loads it: the named categories' assets, the unnamed shapes
(``random_urdfs``, seen in training; the unseen ones of held-out families), sizes, and a pybullet connection of
its own per user."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet as pb
import pybullet_data

DATA = Path(pybullet_data.getDataPath())
DISTRACTOR_SIZE_M = (0.03, 0.06)
SEEN_SHAPES = sorted(p.name for p in (DATA / "random_urdfs").iterdir() if p.name.isdigit())  # flat's distractors
PANDA_URDF = DATA / "franka_panda/panda.urdf"  # the robot of the simulated cell, and the arm seen in view
PANDA_FINGER_JOINTS = (9, 10)  # prismatic, 0 (closed) .. 0.04 m each
PANDA_GRASP_LINK = 11  # panda_grasptarget: between the fingertips
PRIMITIVE = "primitive/"  # an Asset path for a pybullet cylinder or capsule (nominally 1 m tall)


class PybulletClient:
    """pybullet's functions bound to a fresh DIRECT connection of its own."""

    def __init__(self) -> None:
        self.id = pb.connect(pb.DIRECT)

    def __getattr__(self, name: str):
        return functools.partial(getattr(pb, name), physicsClientId=self.id)


@dataclass(frozen=True)
class Asset:
    path: str  # relative to pybullet_data: a .urdf or an .obj mesh
    size_m: tuple[float, float]  # range of the largest object-frame extent
    y_up: bool = False  # modelled with y up: stood upright by +90 deg about x


ASSETS: dict[str, Asset] = {
    "block": Asset("cube_small.urdf", (0.04, 0.07)),
    "ball": Asset("sphere_small.urdf", (0.04, 0.07)),
    "mug": Asset("objects/mug.urdf", (0.10, 0.13)),
    "duck": Asset("duck_vhacd.urdf", (0.07, 0.10), y_up=True),
    "teddy": Asset("teddy_vhacd.urdf", (0.10, 0.15), y_up=True),
    "ring": Asset("torus/torus_textured.obj", (0.06, 0.09), y_up=True),
    "lego": Asset("lego/lego.urdf", (0.04, 0.06)),
    "tray": Asset("tray/traybox.urdf", (0.20, 0.25)),
    "jenga": Asset("jenga/jenga.urdf", (0.10, 0.15)),
}
UNSEEN_SHAPES = (Asset("bunny.obj", (0.05, 0.09), y_up=True), Asset("stone.obj", (0.04, 0.08)),
                 Asset(PRIMITIVE + "cylinder", (0.05, 0.10)), Asset(PRIMITIVE + "capsule", (0.05, 0.09)))


@functools.cache
def extents(asset: Asset) -> np.ndarray:
    """Object-frame extents of an asset at scale 1, measured in a throwaway client.

    pybullet pads mesh AABBs by a fixed collision margin; loading at scales 1 and 2 cancels it.
    """
    client = PybulletClient()
    try:
        (lo1, hi1), (lo2, hi2) = np.array([client.getAABB(spawn(client, asset, s)) for s in (1.0, 2.0)])
    finally:
        client.disconnect()
    return (hi2 - lo2) - (hi1 - lo1)


def spawn(client: PybulletClient, asset: Asset, scale: float, pos=(0.0, 0.0, 0.0), yaw: float = 0.0) -> int:
    """Load an asset standing upright, turned by ``yaw`` about the world z axis."""
    orn = pb.getQuaternionFromEuler((np.pi / 2 if asset.y_up else 0.0, 0.0, yaw))
    if asset.path.startswith(PRIMITIVE):  # radius 0.25 m, 1 m tall at scale 1
        shape = {"cylinder": pb.GEOM_CYLINDER, "capsule": pb.GEOM_CAPSULE}[asset.path[len(PRIMITIVE):]]
        length = 1.0 - (0.5 if shape == pb.GEOM_CAPSULE else 0.0)
        col = client.createCollisionShape(shape, radius=0.25 * scale, height=length * scale)
        vis = client.createVisualShape(shape, radius=0.25 * scale, length=length * scale)
        return client.createMultiBody(0.05, col, vis, pos, orn)
    if asset.path.endswith(".obj"):  # a dynamic mesh collides as its convex hull
        mesh = dict(fileName=str(DATA / asset.path), meshScale=[scale] * 3)
        col = client.createCollisionShape(pb.GEOM_MESH, **mesh)
        return client.createMultiBody(0.05, col, client.createVisualShape(pb.GEOM_MESH, **mesh), pos, orn)
    return client.loadURDF(str(DATA / asset.path), pos, orn, globalScaling=scale)
