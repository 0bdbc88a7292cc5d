"""Load and latency benchmarks of the OCPP gateway, with their baselines."""
