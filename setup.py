"""pip/editable install of the coc_ros Python package (the venv workflow of install.sh).

colcon builds this package with ament_cmake (CMakeLists.txt), which also generates the ROS interfaces; this
file only serves `pip install -e .` so the `coc-ros` CLI and node executables land on the venv's PATH.
"""
from setuptools import find_packages, setup

NODES = ["coc_server", "lmulator", "skill_server", "recorder"]

setup(
    name="coc_ros",
    version="0.1.0",
    description="Chain of Code for ROS 2 manipulators",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["coc_ros", "coc_ros.*"]),
    include_package_data=True,
    package_data={"coc_ros": ["engine/data/*.yaml", "bench/data/*", "bench/data/*/*"]},
    entry_points={
        "console_scripts": ["coc-ros=coc_ros.cli:main"]
        + [f"{n}=coc_ros.nodes.{n}:main" for n in NODES]
        + ["bringup=coc_ros.launcher:main"],
    },
)
