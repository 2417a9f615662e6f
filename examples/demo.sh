#!/usr/bin/env bash
# The end-to-end demo behind `make demo`: version a data set beside code in a throwaway repo.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gitflowml-demo.XXXXXX")
elsewhere=$(mktemp -d "${TMPDIR:-/tmp}/gitflowml-demo-clone.XXXXXX")
trap 'rm -rf "$work" "$elsewhere"' EXIT
cd "$work"
export GIT_CONFIG_GLOBAL="$work/.gitconfig" GIT_CONFIG_NOSYSTEM=1

# Show each command as it would be typed (an argument with spaces or quotes in quotes), then run it.
step() {
  local shown="" arg
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=@%+,~-]+$ ]]; then shown+=" $arg"; else shown+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  printf '\n\033[1m$%s\033[0m\n' "$shown"
  "$@"
}

git init -q -b main
git config user.name "Demo User"
git config user.email "demo@example.invalid"

# A small but realistic raw data set: daily sensor readings as CSV, one file per site.
python3 - <<'PY'
import csv, pathlib, random
rnd = random.Random(7)
root = pathlib.Path("data/raw")
for site in ("berlin", "lagos", "lima", "osaka"):
    (root / site).mkdir(parents=True)
    for month in range(1, 13):
        with open(root / site / f"2025-{month:02d}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["day", "temperature_c", "humidity"])
            for day in range(1, 29):
                t = rnd.gauss(18, 7)
                w.writerow([day, round(t, 2), round(0.9 - 0.012 * t + rnd.gauss(0, 0.04), 3)])
PY
cp -R "$here/weather/src" "$here/weather/params.yaml" .
git add src params.yaml && git commit -qm "Weather model code"

step gitflowml init
git add .gitflowml && git commit -qm "Set up gitflowml"

step gitflowml add data/raw
step cat data/raw.gfml
git add data/raw.gfml data/.gitignore && git commit -qm "Track raw data v1"
step git status --short

echo; echo "# A new month of data arrives for one site and a file is corrected:"
printf '29,21.5,0.61\n' >> data/raw/lima/2025-12.csv
python3 -c "import pathlib; p = pathlib.Path('data/raw/berlin/2025-01.csv'); p.write_text(p.read_text().replace('day,', 'day_of_month,'))"
step gitflowml status
gitflowml -q status --check || echo "(status --check exits $? while anything is stale)"

step gitflowml add data/raw
git add data/raw.gfml && git commit -qm "Track raw data v2"
step gitflowml status

echo; echo "# Go back to v1 of the data, as the commit before the last one has it:"
step git checkout -q HEAD~1 -- data/raw.gfml
step gitflowml checkout
step head -2 data/raw/berlin/2025-01.csv

echo; echo "# And back to v2; an accidental deletion is repaired from the cache:"
git checkout -q HEAD -- data/raw.gfml
rm -rf data/raw/osaka
step gitflowml status
step gitflowml checkout
step gitflowml status --check
echo; echo "# A pipeline over the data: prepare -> featurize -> train -> evaluate"
cp "$here/weather/pipeline.yaml" .
step gitflowml dag
step gitflowml status
step gitflowml repro
step cat metrics.json
git add -A && git commit -qm "Pipeline, lock and metrics"

echo; echo "# Change one training param: only train and evaluate run again"
sed -i.bak 's/l2: 0.001/l2: 0.01/' params.yaml && rm params.yaml.bak
step gitflowml status
step gitflowml repro
step cat metrics.json
step gitflowml repro
git add -A && git commit -qm "Stronger regularisation"

echo; echo "# src/model.py is listed nowhere, but train and evaluate import it: gitflowml"
echo "# follows the imports. A comment or reformatting changes nothing..."
printf '\n\n# predictions are not clipped\n' >> src/model.py
step gitflowml status
echo; echo "# ...a change to the code reruns exactly the stages that import it"
cat > src/model.py <<'PY'
"""The model that training and evaluation share: a linear function of the features."""


def predict(weights, bias, x):
    return max(-60.0, min(60.0, sum(w * xi for w, xi in zip(weights, x)) + bias))
PY
step gitflowml status
step gitflowml repro

echo; echo "# Commit the results: the runs are attached to the commit as a git note"
git add src/model.py && git commit -qm "Clip predictions"
step gitflowml repro --commit -m "Results with clipped predictions"
step gitflowml metrics diff HEAD~3 HEAD
step gitflowml params diff HEAD~3 HEAD
step gitflowml log -n 3
step gitflowml lineage model.json

echo; echo "# Try two learning rates as experiments, side by side in worktrees; the workspace stays"
step gitflowml exp run -S train.lr=0.2,0.8 -n lr --run -j 2
step gitflowml exp show --only-changed
step gitflowml exp diff lr-2
step gitflowml plots diff HEAD --exp lr-1 --exp lr-2 --format png -o "$work/plots"
echo "(the training loss of HEAD and both experiments, drawn offline: $work/plots/train_log.json.png)"
step gitflowml exp remove lr-1 lr-2

echo; echo "# Share the artifacts through a remote cache (a directory here; S3 works the same)"
step gitflowml remote add -d team "$elsewhere/remote-cache"
git add .gitflowml/config.yaml && git commit -qm "Team remote"
step gitflowml push
step gitflowml push

echo; echo "# A teammate's fresh clone: pull the data, outputs and lineage; nothing reruns"
git clone -q "$work" "$elsewhere/clone"
cd "$elsewhere/clone"
git config user.name "Teammate"
git config user.email "teammate@example.invalid"
step gitflowml pull
step gitflowml status
step gitflowml repro
step gitflowml lineage metrics.json
echo; echo "Demo finished: every step above ran for real in $work and $elsewhere (removed on exit)."
