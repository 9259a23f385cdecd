"""Connection health for technicians: the live dashboard, alerts, stored samples, the quality
report, pre-conference site checks and the Prometheus metrics."""
