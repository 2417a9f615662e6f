"""The data registry (SPEC section 15): other gitflowml (or DVC) repositories' files and
data, listed and fetched without a checkout."""
