"""Seeing a tabletop: camera poses, lights, and rendering RGB, depth and instance ids with their ground truth.

It renders with pybullet's CPU TinyRenderer: the only renderer that honours the lighting arguments, and the same
pixels on every machine."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pybullet as pb

from lts_ros.data.tabletop.scene import TABLE_TOP_Z, Camera, Scene, SceneObject

if TYPE_CHECKING:
    from lts_ros.data.tabletop.assets import PybulletClient
    from lts_ros.data.tabletop.world import CameraMotion, _Item

NEAR, FAR = 0.05, 4.0


@dataclass(frozen=True)
class Light:
    """A light for rendering: direction angles (rad) and the renderer's light coefficients."""
    azim: float
    elev: float
    rgb: tuple[float, float, float]
    shadow: bool
    ambient: float
    diffuse: float
    specular: float


def sample_light(rng: np.random.Generator) -> Light:
    azim, elev = rng.uniform(0, 2 * np.pi), rng.uniform(np.radians(30), np.radians(85))
    rgb = tuple(rng.uniform(0.85, 1.0, 3).tolist())
    shadow = bool(rng.random() < 0.5)
    return Light(azim, elev, rgb, shadow, rng.uniform(0.45, 0.75), rng.uniform(0.25, 0.55), rng.uniform(0.0, 0.15))


@dataclass
class Tabletop:
    """A settled tabletop in a live pybullet client: what the simulated robot cell acts in."""
    client: PybulletClient
    seed: int
    items: list[_Item]

    def close(self) -> None:
        self.client.disconnect()

    @property
    def bodies(self) -> list[int]:
        """pybullet body ids, in instance-id order."""
        return [item.body for item in self.items]

    def render(self, camera: Camera, light: Light) -> Scene:
        """The tabletop seen by ``camera`` (objects' ground truth as they are now)."""
        rgb, depth, seg = _render(self.client, camera, light)
        lut = np.full(max(seg.max(), *self.bodies) + 2, -1, np.int32)
        for i, body in enumerate(self.bodies):
            lut[body + 1] = i
        instances = lut[seg + 1]
        return Scene(self.seed, rgb, depth, instances, camera, _records(self.client, self.items, instances, camera))


@dataclass(frozen=True)
class CameraPose:
    """Where the camera looks from: target point, distance (m), elevation and azimuth (rad), vertical FOV (deg)."""
    target: tuple[float, float, float]
    dist: float
    elev: float
    azim: float
    fov: float

    def moved(self, motion: CameraMotion) -> "CameraPose":
        return CameraPose(self.target, self.dist + motion.dist_m, self.elev + np.radians(motion.elev_deg),
                     self.azim + np.radians(motion.azim_deg), self.fov)


def sample_pose(rng: np.random.Generator) -> CameraPose:
    """A camera looking at the table from its front (-y side)."""
    target = (rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1), TABLE_TOP_Z)
    dist = rng.uniform(0.45, 0.8)  # a head or wrist camera close enough that 4 cm objects span ~30 px
    elev, azim = np.radians(rng.uniform(35.0, 70.0)), np.radians(rng.uniform(-60.0, 60.0))
    return CameraPose(target, dist, elev, azim, rng.uniform(42.0, 55.0))


def camera_looking_at(target: tuple[float, float, float], dist_m: float, elev_deg: float, azim_deg: float,
                      fov_deg: float, width: int = 640, height: int = 480) -> Camera:
    """A camera ``dist_m`` from ``target`` (world), ``elev_deg`` above the table, ``azim_deg`` round from the
    table's front (-y side), image x level with the table."""
    return camera_at(CameraPose(target, dist_m, np.radians(elev_deg), np.radians(azim_deg), fov_deg), width, height)


def camera_at(pose: CameraPose, width: int, height: int) -> Camera:
    """The camera at ``pose``."""
    target, dist, elev, azim, fov = np.array(pose.target), pose.dist, pose.elev, pose.azim, pose.fov
    back = np.array([np.cos(elev) * np.sin(azim), -np.cos(elev) * np.cos(azim), np.sin(elev)])
    z = -back
    x = np.cross(z, (0.0, 0.0, 1.0))
    x /= np.linalg.norm(x)
    world_from_camera = np.eye(4)
    world_from_camera[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    world_from_camera[:3, 3] = target + dist * back
    f = (height / 2) / np.tan(np.radians(fov) / 2)
    # TinyRenderer samples column u at x = u and row v at y = v + 1 of the [0, W] x [0, H] viewport.
    K = np.array([[f, 0.0, width / 2], [0.0, f, height / 2 - 1], [0.0, 0.0, 1.0]])
    return Camera(width, height, K, world_from_camera)


def _render(client: PybulletClient, camera: Camera, light: Light) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB (H, W, 3) uint8, z-depth (H, W) float32 meters (0 = nothing) and body ids (H, W)."""
    w, h = camera.width, camera.height
    gl_from_world = np.diag([1.0, -1.0, -1.0, 1.0]) @ np.linalg.inv(camera.world_from_camera)
    fov = float(np.degrees(2 * np.arctan((h / 2) / camera.K[1, 1])))
    _, _, rgba, zbuf, seg = client.getCameraImage(
        w, h, gl_from_world.T.ravel().tolist(), client.computeProjectionMatrixFOV(fov, w / h, NEAR, FAR),
        lightDirection=[np.cos(light.elev) * np.cos(light.azim), np.cos(light.elev) * np.sin(light.azim),
                        np.sin(light.elev)],
        lightColor=list(light.rgb), lightDistance=2.0, shadow=int(light.shadow),
        lightAmbientCoeff=light.ambient, lightDiffuseCoeff=light.diffuse,
        lightSpecularCoeff=light.specular, renderer=pb.ER_TINY_RENDERER)
    zbuf = np.asarray(zbuf, np.float64).reshape(h, w)
    depth = np.where(zbuf < 1.0, FAR * NEAR / (FAR - (FAR - NEAR) * zbuf), 0.0).astype(np.float32)
    rgb = np.asarray(rgba, np.uint8).reshape(h, w, 4)[:, :, :3].copy()
    return rgb, depth, np.asarray(seg, np.int64).reshape(h, w)


def _records(client: PybulletClient, items: list[_Item], instances: np.ndarray,
             camera: Camera) -> list[SceneObject]:
    """SceneObjects with instance_id = list index; visibility from the instance image."""
    n = len(items)
    v, u = np.indices(instances.shape)
    ids = instances.ravel() + 1
    counts = np.bincount(ids, minlength=n + 1)[1:]
    mean_u = np.bincount(ids, u.ravel(), minlength=n + 1)[1:] / np.maximum(counts, 1)
    mean_v = np.bincount(ids, v.ravel(), minlength=n + 1)[1:] / np.maximum(counts, 1)
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    records = []
    for i, item in enumerate(items):
        lo, hi = np.array(client.getAABB(item.body))
        center = (lo + hi) / 2
        records.append(SceneObject(
            instance_id=i, category=item.category, color=item.color, size_m=float(item.extents.max()),
            center_world=tuple(center.tolist()),
            orientation_world=tuple(client.getBasePositionAndOrientation(item.body)[1]),
            center_camera=tuple((camera_from_world[:3, :3] @ center + camera_from_world[:3, 3]).tolist()),
            visible_px=int(counts[i]),
            centroid_px=(float(mean_u[i]), float(mean_v[i])) if counts[i] else None))
    return records
