#!/usr/bin/env bash
# The GPU check, ready for the day a GPU is at hand (`make gpu-check`). With a CUDA device:
#   1. the training benchmark on CUDA (bench_train.py: plain loop vs grokcore, MLP and transformer);
#   2. one chapter at the paper profile with a step cap (default p1_arch, 2,000 steps: width-512
#      transformer and MLP, 5 seeds each), in a scratch book and results store, beside what
#      `grok plan` estimated for it;
# each under a timeout, about nine minutes in all, and a short report (default _build/gpu_check.md).
# Without CUDA it says so and exits 0.
#   benchmarks/gpu_check.sh [REPORT]
#   env: GPU_CHECK_CHAPTER (p1_arch), GPU_CHECK_STEPS (2000), PYTHON (python), GROK (grok)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
GROK=${GROK:-grok}
CH=${GPU_CHECK_CHAPTER:-p1_arch}
STEPS=${GPU_CHECK_STEPS:-2000}
REPORT=${1:-_build/gpu_check.md}

if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "gpu_check: no CUDA device visible to torch ($("$PY" -c 'import torch; print(torch.__version__)' 2>&1 | tail -1)); nothing to check"
  exit 0
fi

mkdir -p "$(dirname "$REPORT")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/book"
cp _toc.yml _config.yml "$WORK/book/"
cp -r notebooks "$WORK/book/notebooks"
mkdir -p "$WORK/book/book" && cp -r book/reference book/*.md book/*.bib "$WORK/book/book/"
export GROK_BOOK_ROOT="$WORK/book" GROK_RESULTS="$WORK/results"

section() { printf '\n## %s\n\n```\n' "$1"; }
endsection() { printf '```\n'; }
{
  echo "# GPU check, $(date -u '+%Y-%m-%d %H:%M UTC')"
  section "device"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
  "$PY" -c "from grokcore.core.env import lock_hash; print('requirements.lock', lock_hash() or '(none)')"
  endsection

  section "benchmark: bench_train.py --device cuda (timeout 240 s)"
  timeout 240 "$PY" benchmarks/bench_train.py --device cuda --sizes 1,8,64 --models mlp,transformer \
      --steps 200 --eval-every 100 --repeats 3 2>&1 | tail -20
  echo "exit status ${PIPESTATUS[0]}"
  endsection

  section "grok plan --profile paper --max-steps $STEPS $CH (the estimate; timeout 120 s)"
  timeout 120 "$GROK" plan --profile paper --max-steps "$STEPS" --calibrate 20 "$CH" 2>/dev/null | head -6
  endsection

  section "grok run $CH --profile paper --max-steps $STEPS --no-build (timeout 300 s)"
  start=$(date +%s)
  timeout 300 "$GROK" run "$CH" --profile paper --max-steps "$STEPS" --no-build 2>&1 | tail -3
  status=${PIPESTATUS[0]}
  echo "exit status $status after $(( $(date +%s) - start )) s"
  "$PY" - "$WORK" "$CH" <<'PYEOF'
import json, sys
from pathlib import Path
work, ch = Path(sys.argv[1]), sys.argv[2]
for f in sorted((work / "results" / "jobs").glob("*.json")):
    r = json.loads(f.read_text())
    c = r.get("config", {})
    print(f"job {r['hash']}: {r['state']}, {r.get('wall_s')} s, {c.get('model')} width {c.get('width')}, "
          f"{c.get('steps')} steps, {r.get('model_steps_per_s', 0):.0f} model-steps/s")
claims = work / "book" / "book" / "chapters" / "_claims" / f"{ch}.json"
for row in json.loads(claims.read_text()) if claims.exists() else []:
    print(f"{row['claim_id']}: {row['verdict']} ({row['profile']}): {row['our_value']}")
PYEOF
  endsection
} 2>&1 | tee "$REPORT"
echo "gpu_check: report in $REPORT"
