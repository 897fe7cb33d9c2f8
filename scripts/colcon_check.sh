#!/usr/bin/env bash
# Build coc_ros with colcon in a temporary workspace against the venv's ROS prefix, then start one installed
# node executable (install/coc_ros/lib/coc_ros/lmulator with a scripted LLM), wait until its service is visible
# from a small rclpy client, and stop it with SIGINT. Usage: scripts/colcon_check.sh [VENV] (default .venv)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(cd "${1:-$ROOT/.venv}" && pwd)
WS=$(mktemp -d /tmp/coc_colcon.XXXXXX)
cleanup() { [ -n "${NODE_PID:-}" ] && kill -INT "$NODE_PID" 2>/dev/null || true; rm -rf "$WS"; }
trap cleanup EXIT
mkdir -p "$WS/src/coc_ros"
# a copy of the package without build outputs (colcon would otherwise also see nested packages or the venv)
tar -C "$ROOT" --exclude=./.venv --exclude=./.git --exclude='*/__pycache__' --exclude=./build --exclude=./install \
  --exclude=./log --exclude=./runs -cf - . | tar -C "$WS/src/coc_ros" -xf -
# shellcheck disable=SC1091
source "$VENV/bin/activate"
export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
cd "$WS"
start=$(date +%s)
colcon build --event-handlers console_direct- --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$VENV/bin/python3" \
  > "$WS/build.log" 2>&1 || { tail -60 "$WS/build.log"; echo "[colcon_check] colcon build FAILED"; exit 1; }
echo "[colcon_check] colcon build ok in $(( $(date +%s) - start )) s"
set +u
# shellcheck disable=SC1091
source install/setup.bash
set -u
EXE=install/coc_ros/lib/coc_ros/lmulator
[ -x "$EXE" ] || { echo "[colcon_check] $EXE missing"; exit 1; }
for f in coc_server skill_server recorder bringup; do
  [ -x "install/coc_ros/lib/coc_ros/$f" ] || { echo "[colcon_check] install/coc_ros/lib/coc_ros/$f missing"; exit 1; }
done
[ -f install/coc_ros/share/coc_ros/config/coc_ros.yaml ] || { echo "[colcon_check] config not installed"; exit 1; }
[ -f install/coc_ros/share/coc_ros/launch/sim.launch.py ] || { echo "[colcon_check] launch not installed"; exit 1; }
export ROS_DOMAIN_ID=$(( 100 + RANDOM % 30 )) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_LOG_DIR="$WS/ros_log"
echo '["```python\nanswer = 1\n```"]' > "$WS/script.json"
# Run from outside the source tree so the installed modules are the ones imported.
cd /
"$WS/$EXE" --ros-args -p "llm:=scripted:$WS/script.json" > "$WS/node.log" 2>&1 &
NODE_PID=$!
python3 - "$WS" <<'PY'
import sys, rclpy
import coc_ros.nodes.lmulator as m
from coc_ros.srv import Complete
ws = sys.argv[1]
assert m.__file__.startswith(ws), f"imported {m.__file__}, expected the colcon install under {ws}"
rclpy.init()
node = rclpy.create_node("colcon_check")
client = node.create_client(Complete, "/coc/lmulator/complete")
ok = client.wait_for_service(timeout_sec=20.0)
if ok:
    fut = client.call_async(Complete.Request(messages_json='[{"role": "user", "content": "hi"}]', max_tokens=8))
    rclpy.spin_until_future_complete(node, fut, timeout_sec=10.0)
    ok = fut.done() and fut.result().success
    print("[colcon_check] Complete answered:", repr(fut.result().text) if fut.done() else None)
node.destroy_node()
rclpy.shutdown()
sys.exit(0 if ok else 1)
PY
kill -INT "$NODE_PID"
wait "$NODE_PID"; rc=$?
NODE_PID=
[ "$rc" -eq 0 ] || { cat "$WS/node.log"; echo "[colcon_check] node exited with $rc after SIGINT"; exit 1; }
echo "[colcon_check] installed lmulator came up, answered and stopped cleanly on SIGINT"
