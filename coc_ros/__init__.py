"""coc_ros: Chain of Code for ROS 2 manipulators.

The generated ROS interfaces (coc_ros.msg / .srv / .action) are installed by rosidl as a package of the same
name in the ROS prefix; extending __path__ lets them import next to these modules when the sources are used
in place (editable install). In a colcon install both live in one directory and this file is not installed.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
__version__ = "0.1.0"
