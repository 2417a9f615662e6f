#!/usr/bin/env bash
# Builds the DVC project that tests/test_migration.py converts, with the real DVC CLI, and
# records DVC's own answers about it. Run it again after changing it:
#   python3 -m venv /tmp/dvcenv && /tmp/dvcenv/bin/pip install dvc==3.67.1
#   DVC=/tmp/dvcenv/bin/dvc bash tests/data/dvc/make_project.sh
# It writes tests/data/dvc/project.tar.gz: project/ (a git repository with its history, its
# workspace, .dvc/cache), store/ (the DVC remote) and expected/ (DVC's answers, as JSON).
set -euo pipefail
DVC=${DVC:-dvc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.com
export GIT_AUTHOR_DATE="2026-01-05T10:00:00Z" GIT_COMMITTER_DATE="2026-01-05T10:00:00Z"
export DVC_NO_ANALYTICS=1
mkdir "$work/project" "$work/store" "$work/expected"
cd "$work/project"
git init -q -b main
$DVC init -q
$DVC config core.autostage false
$DVC remote add -d local ../store   # DVC writes this relative to .dvc/: ../../store

mkdir -p data/images src
python3 - <<'PY'
import random
random.seed(7)
with open("data/raw.csv", "w") as f:
    f.write("x,y\n")
    for _ in range(200):
        x = random.random()
        f.write(f"{x:.6f},{int(x + random.random() * 0.5 > 0.75)}\n")
for i in range(3):
    with open(f"data/images/{i}.bin", "wb") as f:
        f.write(bytes(range(i, 256)) * (i + 1))
PY
cat > params.yaml <<'Y'
prepare:
  split: 0.75
  seed: 7
train:
  lr: 0.1
  epochs: 4
  model:
    depth: 3
    kind: stump
eval_sets: [train, test]
Y
cat > src/prepare.py <<'PY'
import os, sys
split = float(sys.argv[1])
rows = open("data/raw.csv").read().splitlines()[1:]
cut = int(len(rows) * split)
os.makedirs("data/prepared", exist_ok=True)
for name, part in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(f"data/prepared/{name}.csv", "w") as f:
        f.write("x,y\n" + "\n".join(part) + "\n")
PY
cat > src/train.py <<'PY'
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
rows = [tuple(map(float, r.split(","))) for r in open("data/prepared/train.csv").read().splitlines()[1:]]
threshold, losses = 0.5, []
for step in range(p["epochs"]):
    err = sum((x > threshold) != bool(y) for x, y in rows) / len(rows)
    losses.append((step, round(err, 4)))
    threshold -= p["lr"] * (err - 0.2)
os.makedirs("plots", exist_ok=True)
with open("plots/loss.csv", "w") as f:
    f.write("step,loss\n" + "".join(f"{s},{l}\n" for s, l in losses))
json.dump({"threshold": round(threshold, 6), "depth": p["model"]["depth"]}, open("model.pkl", "w"))
json.dump({"train": {"loss": losses[-1][1], "steps": p["epochs"]}}, open("metrics.json", "w"))
os.makedirs("logs", exist_ok=True)
with open("logs/train.log", "a") as f:  # persist: true, so each run adds a line
    f.write(f"trained lr={p['lr']} epochs={p['epochs']}\n")
PY
cat > src/evaluate.py <<'PY'
import json, os, sys
part = sys.argv[1]
threshold = json.load(open("model.pkl"))["threshold"]
rows = [tuple(map(float, r.split(","))) for r in open(f"data/prepared/{part}.csv").read().splitlines()[1:]]
acc = sum((x > threshold) == bool(y) for x, y in rows) / len(rows)
os.makedirs(f"eval/{part}", exist_ok=True)
with open(f"eval/{part}/scores.yaml", "w") as f:
    f.write(f"accuracy: {round(acc, 4)}\nrows: {len(rows)}\n")
points = [{"fpr": t / 4, "tpr": min(1.0, t / 4 + acc / 4)} for t in range(5)]
json.dump({"roc": points}, open(f"eval/{part}/roc.json", "w"))
PY
cat > src/report.py <<'PY'
import os
names = sorted(os.listdir("data/images"))
open("report.txt", "w").write("".join(f"{n} {os.path.getsize('data/images/' + n)}\n" for n in names))
PY
$DVC add -q data/raw.csv data/images
git add -A && git commit -qm "Data, added with dvc add"

$DVC stage add -q -n prepare -d src/prepare.py -d data/raw.csv -p prepare.split,prepare.seed \
  -o data/prepared 'python3 src/prepare.py ${prepare.split}'
$DVC stage add -q -n train -d src/train.py -d data/prepared -p train \
  -o model.pkl --outs-persist logs/train.log -M metrics.json --plots plots/loss.csv \
  'python3 src/train.py'
$DVC stage add -q -n report -d src/report.py -d data/images -o report.txt 'python3 src/report.py'
python3 - <<'PY'
import yaml
doc = yaml.safe_load(open("dvc.yaml"))
stages = doc["stages"]
stages["evaluate"] = {
    "foreach": "${eval_sets}",
    "do": {
        "cmd": "python3 src/evaluate.py ${item}",
        "deps": ["src/evaluate.py", "model.pkl", "data/prepared"],
        "metrics": ["eval/${item}/scores.yaml"],
        "plots": [{"eval/${item}/roc.json": {"x": "fpr", "y": "tpr"}}],
    },
}
doc["metrics"] = ["metrics.json"]
doc["plots"] = [{"plots/loss.csv": {"x": "step", "y": "loss"}}]
doc["artifacts"] = {"model": {"path": "model.pkl", "type": "model"}}
yaml.safe_dump(doc, open("dvc.yaml", "w"), sort_keys=False)
PY
$DVC repro -q
$DVC freeze -q report
git add -A && git commit -qm "Pipeline: prepare, train, evaluate, report (frozen)"
$DVC push -q

export GIT_AUTHOR_DATE="2026-01-06T10:00:00Z" GIT_COMMITTER_DATE="2026-01-06T10:00:00Z"
git checkout -qb feature
sed -i 's/lr: 0.1/lr: 0.3/' params.yaml
$DVC repro -q
git add -A && git commit -qm "Try lr 0.3"
$DVC push -q
git checkout -q main
$DVC checkout -q

# DVC's own answers, by revision, for the test to compare with
mainrev=$(git rev-parse main)
$DVC metrics show --json > "$work/expected/metrics_show.json"
$DVC metrics show --json -a > "$work/expected/metrics_show_all_branches.json"
$DVC metrics show --json -A > "$work/expected/metrics_show_all_commits.json"
$DVC metrics diff main feature --json > "$work/expected/metrics_diff.json"
$DVC metrics diff main~1 main --json > "$work/expected/metrics_diff_first.json"
$DVC params diff main~1 main --json > "$work/expected/params_diff_first.json"
$DVC params diff main feature --json > "$work/expected/params_diff.json"
$DVC params diff main feature --json --all > "$work/expected/params_diff_all.json"
$DVC status --json > "$work/expected/status.json"
$DVC diff main feature --json > "$work/expected/diff.json"
$DVC dag --md > "$work/expected/dag.md"
echo "$mainrev" > "$work/expected/main.sha"
git rev-parse feature > "$work/expected/feature.sha"

cd "$work"
# no volatile files: DVC's tmp and its site cache stay out
rm -rf project/.dvc/tmp
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="2026-01-07 00:00Z" \
  -czf "$here/project.tar.gz" project store expected
echo "wrote $here/project.tar.gz ($(du -h "$here/project.tar.gz" | cut -f1))"
