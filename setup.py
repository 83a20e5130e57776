"""ament_python package: installs the Python package, launch/config/models data and the console scripts."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "lts_ros"


def data(folder: str, pattern: str = "*") -> tuple[str, list[str]]:
    return (f"share/{PACKAGE}/{folder}", [f for f in glob(f"{folder}/{pattern}") if "." in f.rsplit("/", 1)[-1]])


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        data("launch"),
        data("config"),
        data("config/models", "*.yaml"),
        data("models"),
    ],
    install_requires=["setuptools", "numpy", "pyyaml"],
    extras_require={"test": ["pytest"]},
    zip_safe=True,
    maintainer="lts_ros maintainers",
    maintainer_email="maintainers@lts-ros.org",
    description="Locate-then-Segment referring segmentation for ROS 2.",
    license="Apache-2.0",
    entry_points={"console_scripts": ["lts = lts_ros.cli:main", "lts_node = lts_ros.ros.node:main",
                                      "lts_grasp_client = lts_ros.sim.grasp_client:main"]},
)
