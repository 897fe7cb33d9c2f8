"""Thin rclpy adapters around the engine, the LMulator, the skill backends and the bag recorder.

Each module is one executable with a `main()`; only this package (and coc_ros.commands.ros) imports rclpy.
"""
