"""Launch the coc_ros nodes with the simulated arm (for full ROS 2 installs: `ros2 launch coc_ros sim.launch.py`).

Same nodes and params file as `coc-ros bringup`. Arguments: params_file (default: the installed coc_ros.yaml).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    default_params = os.path.join(get_package_share_directory("coc_ros"), "config", "coc_ros.yaml")
    params = LaunchConfiguration("params_file")
    nodes = [
        Node(package="coc_ros", executable=name, name=name, output="screen", parameters=[params])
        for name in ("lmulator", "skill_server", "recorder", "coc_server")
    ]
    return LaunchDescription([
        DeclareLaunchArgument("params_file", default_value=default_params,
                              description="coc_ros parameters (lmulator, skill_server, recorder, coc_server)"),
        *nodes,
    ])
