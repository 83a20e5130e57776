"""An isolated DDS domain on one host: a random domain id, loopback discovery and the large-frame FastDDS
profile, as an environment for lts_node's process and, through ``dds_environment``, for this one's participants."""
from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FASTDDS_PROFILE = REPO / "config" / "fastdds.xml"
DDS_ENV = ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE", "FASTDDS_DEFAULT_PROFILES_FILE")
_unused_domains = random.sample(range(1, 201), 200)  # this process's domains, each handed out once


def isolated_env(profile: bool = True) -> dict[str, str]:
    """A random DDS domain on loopback only, never one this process handed out before (a node still running on
    an earlier domain would answer in this one); with the large-frame FastDDS profile unless ``profile`` is False.
    FastDDS reads the profile once per process, so a process's first participant decides."""
    if not _unused_domains:
        raise RuntimeError("all 200 isolated DDS domains of this process are used")
    env = dict(os.environ, ROS_DOMAIN_ID=str(_unused_domains.pop()), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               HF_HUB_OFFLINE="1", AMENT_PREFIX_PATH=os.environ.get("AMENT_PREFIX_PATH") or sys.prefix)
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    if profile:
        env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(FASTDDS_PROFILE)
    return env


def without_profile(env: dict[str, str]) -> dict[str, str]:
    """``env``'s domain with FastDDS defaults, as a stock camera driver's process runs."""
    return {k: v for k, v in env.items() if k != "FASTDDS_DEFAULT_PROFILES_FILE"}


@contextmanager
def dds_environment(env: dict[str, str]) -> Iterator[None]:
    """This process's DDS settings (domain, discovery range, FastDDS profile) taken from ``env`` for the block,
    so that participants created in it (rclpy.init reads them) share the node's isolated graph."""
    saved = {k: os.environ.get(k) for k in DDS_ENV}
    try:
        for key in DDS_ENV:
            if key in env:
                os.environ[key] = env[key]
            else:
                os.environ.pop(key, None)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
