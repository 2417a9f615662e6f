"""The model that training and evaluation share: a linear function of the features."""


def predict(weights, bias, x):
    return sum(w * xi for w, xi in zip(weights, x)) + bias
