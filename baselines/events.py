"""Events of configuration baselines, emitted after commit by `baselines.services`.

BASELINE_DRIFT_FOUND: a station newly differs from a baseline, or differs in more settings than
last announced: organization_id, station_id, baseline_id, keys (the labels of the differing
settings). Not repeated while the same settings keep differing.
BASELINE_DRIFT_CLEARED: the station matches the baseline again (or the baseline no longer
watches it): organization_id, station_id, baseline_id.
BASELINE_RUN_FINISHED: an application of a baseline to a station ended: organization_id,
station_id, baseline_id, run_id, status (RunStatus).
"""

BASELINE_DRIFT_FOUND = "baseline.drift_found"
BASELINE_DRIFT_CLEARED = "baseline.drift_cleared"
BASELINE_RUN_FINISHED = "baseline.run_finished"
