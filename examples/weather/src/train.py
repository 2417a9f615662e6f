"""Ridge regression by gradient descent, in plain Python."""

import json
import sys

import yaml
from model import predict

params = yaml.safe_load(open("params.yaml"))["train"]
data = json.load(open(sys.argv[1]))
n_features = len(data[0]["x"])
weights, bias = [0.0] * n_features, 0.0
history = []
for epoch in range(params["epochs"]):
    grad_w, grad_b, squared = [0.0] * n_features, 0.0, 0.0
    for row in data:
        error = predict(weights, bias, row["x"]) - row["y"]
        grad_w = [g + error * x for g, x in zip(grad_w, row["x"])]
        grad_b += error
        squared += error * error
    history.append({"epoch": epoch, "mse": round(squared / len(data), 6)})
    weights = [w - params["lr"] * (g / len(data) + params["l2"] * w)
               for w, g in zip(weights, grad_w)]
    bias -= params["lr"] * grad_b / len(data)
json.dump({"weights": weights, "bias": bias}, open(sys.argv[2], "w"))
json.dump({"history": history}, open("train_log.json", "w"))
print(f"trained: weights={[round(w, 4) for w in weights]} bias={bias:.4f}")
