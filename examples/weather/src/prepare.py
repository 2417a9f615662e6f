"""Split the raw readings of every site into train and test sets."""

import csv
import pathlib
import random
import sys

import yaml

params = yaml.safe_load(open("params.yaml"))["prepare"]
raw, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = []
for path in sorted(raw.rglob("*.csv")):
    with open(path) as f:
        for row in csv.DictReader(f):
            rows.append({"site": path.parent.name, **row})
random.Random(params["seed"]).shuffle(rows)
cut = int(len(rows) * (1 - params["split"]))
out.mkdir(parents=True, exist_ok=True)
for name, part in (("train.csv", rows[:cut]), ("test.csv", rows[cut:])):
    with open(out / name, "w", newline="") as f:
        fields = ["site", "day", "temperature_c", "humidity"]
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(part)
print(f"prepared {cut} training and {len(rows) - cut} test rows")
