"""Real-time factor of the embedded simulator: simulated seconds per wall second while the arm moves.

The skills step physics as fast as the CPU allows, so this factor is what bounds how long a robot task takes in the
demo; it must stay > 1 on a 2-core machine.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np


def measure_rtf(sim_seconds: float = 5.0, scene: str = "sort", seed: int = 0, moving: bool = True) -> float:
    """Step `sim_seconds` of simulated time (arm swinging if `moving`) and return sim time / wall time."""
    from coc_ros.sim.robot_model import HOME_Q
    from coc_ros.sim.world import SimWorld

    world = SimWorld(scene, seed)
    home = np.array(HOME_Q)
    chunk = 5
    n = int(math.ceil(sim_seconds / (world.dt * chunk)))
    t_sim0 = world.time
    t0 = time.perf_counter()
    for _ in range(n):
        if moving:
            t = world.time
            world.set_arm_target(home + np.array([0.4 * math.sin(t), 0.3 * math.sin(0.7 * t), 0, 0.2 * math.sin(t),
                                                  0, 0.2 * math.sin(1.3 * t), 0.5 * math.sin(t)]))
        world.step(chunk)
    wall = time.perf_counter() - t0
    return (world.time - t_sim0) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0, help="simulated seconds to step")
    ap.add_argument("--scene", default="sort")
    args = ap.parse_args()
    rtf = measure_rtf(args.seconds, args.scene)
    print(f"real-time factor: {rtf:.1f}x ({args.seconds:.1f} s simulated, scene {args.scene}, 2 ms step)")


if __name__ == "__main__":
    main()
