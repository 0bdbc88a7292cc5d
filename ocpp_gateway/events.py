"""Events of the gateway, emitted after commit: what became of a command sent to a station."""

# A command's outcome is recorded (accepted, rejected, error, timeout, offline): organization_id,
# station_id, command_log_id, command (the neutral name), action, status.
COMMAND_FINISHED = "command.finished"

# A station's result of a bulk command changed (sent, answered, skipped, failed): organization_id,
# bulk_id, result_id, station_id, status, and finished (whether the whole bulk command is done).
BULK_RESULT = "bulk.result"
