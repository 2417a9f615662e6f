"""Score the model on the test set."""

import json
import sys

from model import predict

model = json.load(open(sys.argv[1]))
data = json.load(open(sys.argv[2]))
predictions = [predict(model["weights"], model["bias"], r["x"]) for r in data]
mse = sum((p - r["y"]) ** 2 for p, r in zip(predictions, data)) / len(data)
mean = sum(r["y"] for r in data) / len(data)
variance = sum((r["y"] - mean) ** 2 for r in data) / len(data)
json.dump({"test": {"mse": round(mse, 6), "r2": round(1 - mse / variance, 6)}},
          open(sys.argv[3], "w"), indent=2)
print(f"mse={mse:.5f}")
