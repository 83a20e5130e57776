"""Launch lts_node: remap its camera and command topics, load config/lts.yaml (or another params file) and run
it with the FastDDS large-frame profile.

  ros2 launch lts_ros lts.launch.py image:=/camera/color/image_raw depth:=/camera/aligned_depth_to_color/image_raw \
      camera_info:=/camera/color/camera_info command:="the red mug"

The params file is the base: backend, command, use_sim_time and use_lifecycle override it only when given here
(lts_ros/ros/launch_arguments.py has the rule), so params_file:=my.yaml alone runs the node with my.yaml's values.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from lts_ros.ros.launch_arguments import OVERRIDES, flag, node_overrides, params_file

FROM_PARAMS_FILE = "(not given: the params file's value)"


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("lts_ros")
    arguments = [
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the node and its topics"),
        DeclareLaunchArgument("image", default_value="image", description="RGB image topic (sensor_msgs/Image; "
                              "with image_transport compressed, <image>/compressed is read)"),
        DeclareLaunchArgument("depth", default_value="depth", description="depth registered to the RGB camera "
                              "(16UC1 mm or 32FC1 m)"),
        DeclareLaunchArgument("camera_info", default_value="camera_info", description="RGB camera_info topic"),
        DeclareLaunchArgument("command_topic", default_value="command", description="std_msgs/String commands"),
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "lts.yaml"),
                              description="node parameters (YAML); the launch arguments below override it only "
                              "where given"),
        DeclareLaunchArgument("backend", default_value="", description="inference backend: auto, torch, "
                              f"onnxruntime, openvino or tensorrt {FROM_PARAMS_FILE}"),
        DeclareLaunchArgument("command", default_value="", description="initial command, e.g. 'the red mug' "
                              f"{FROM_PARAMS_FILE}"),
        DeclareLaunchArgument("use_sim_time", default_value="", description="true: the node's clock is /clock "
                              f"(replaying a bag with its clock) {FROM_PARAMS_FILE}"),
        DeclareLaunchArgument("use_lifecycle", default_value="false", description="true: wait for a lifecycle "
                              "manager to configure and activate the node; false: it starts itself (given, this "
                              "sets the autostart parameter over the params file)"),
    ]
    given: dict[str, str] = {}

    def note_given(context) -> None:
        """Runs before the arguments' defaults are set: what is already there was given."""
        given.update({name: context.launch_configurations[name] for name in OVERRIDES
                      if name in context.launch_configurations})

    def lts_node(context) -> list:
        arg = LaunchConfiguration
        remappings = [("image", arg("image")), ("image/compressed", [arg("image"), "/compressed"]),
                      ("depth", arg("depth")), ("camera_info", arg("camera_info")),
                      ("command", arg("command_topic"))]
        kind = LifecycleNode if flag("use_lifecycle", arg("use_lifecycle").perform(context)) else Node
        return [kind(package="lts_ros", executable="lts_node", name="lts_node", namespace=arg("namespace"),
                     parameters=[params_file(arg("params_file").perform(context)), node_overrides(given)],
                     remappings=remappings,
                     output="screen")]

    return LaunchDescription([
        OpaqueFunction(function=note_given),
        *arguments,
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", os.path.join(share, "config", "fastdds.xml")),
        OpaqueFunction(function=lts_node),
    ])
