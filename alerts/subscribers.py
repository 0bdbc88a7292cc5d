"""Alerting's subscribers: domain events of the apps below open and resolve alerts."""
