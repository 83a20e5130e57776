"""ROS packaging: package.xml that catkin_pkg-style tools accept, and setup.py installing the data."""
import re
import xml.etree.ElementTree as ET

from conftest import REPO


def test_package_xml():
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.tag == "package" and root.get("format") == "3"
    assert root.findtext("name") == "lts_ros"
    email = root.find("maintainer").get("email")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email)  # an invalid one silently downgrades the build
    assert root.find("export/build_type").text == "ament_python"
    exec_depends = {e.text for e in root.findall("exec_depend")}
    assert {"rclpy", "sensor_msgs", "std_msgs", "geometry_msgs", "diagnostic_msgs"} <= exec_depends
    assert "python3-pytest" in {e.text for e in root.findall("test_depend")}


def test_setup_installs_resources_and_scripts():
    setup = (REPO / "setup.py").read_text()
    for needle in ("resource/", "package.xml", '"launch"', '"config"', '"models"', "extras_require",
                   "lts = lts_ros.cli:main"):
        assert needle in setup
    assert (REPO / "resource" / "lts_ros").is_file()
    cfg = (REPO / "setup.cfg").read_text()
    assert "script_dir=$base/lib/lts_ros" in cfg and "install_scripts=$base/lib/lts_ros" in cfg
