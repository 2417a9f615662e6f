"""Turn readings into features: scaled temperature and its square."""

import csv
import json
import pathlib
import sys

import yaml

params = yaml.safe_load(open("params.yaml"))["featurize"]
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for name in ("train", "test"):
    with open(src / f"{name}.csv") as f:
        rows = list(csv.DictReader(f))
    features = []
    for row in rows:
        t = float(row.get("temperature_c") or 0) / params["scale"]
        features.append({"x": [t, t * t] if params["square"] else [t],
                         "y": float(row["humidity"])})
    (out / f"{name}.json").write_text(json.dumps(features))
print("featurized")
