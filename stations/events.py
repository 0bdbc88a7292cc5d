"""Events of stations: their connections and the statuses they report.

Emitted after commit by the writers of those rows (`stations.services`, the gateway's
connection bookkeeping); each event carries ids and small values only.
"""

# A station's socket is open (a new connection, or one found held again after a lost
# lease): organization_id (None while unassigned), station_id.
STATION_CONNECTED = "station.connected"
# Its socket closed or vanished and no newer connection replaced it: organization_id,
# station_id.
STATION_DISCONNECTED = "station.disconnected"
# A BootNotification was recorded: organization_id (None while unassigned), station_id,
# registration_status (what the station was answered).
STATION_BOOTED = "station.booted"
# A station or one of its connectors reported a status newer than the stored one:
# organization_id, station_id, connector_id (the connector's primary key; None for the station
# itself), status, error_code, vendor_error_code. One name for both, so a status batch stays
# one batch of events in order.
STATION_STATUS_CHANGED = "station.status_changed"
# A station reported events (NotifyEvent entries, security events), stored once each:
# organization_id (None while unassigned), station_id, station_event_id (StationEvent's primary
# key), kind (notify_event / security_event), critical, severity (None when unknown), cleared.
STATION_EVENT_REPORTED = "station.event_reported"
# A WebSocket handshake was refused: organization_id and station_id of the station it claimed
# to be (both None for an unknown identity), identity (at most 64 characters), reason
# (wrong_credentials, unknown_identity or refused).
STATION_CONNECTION_REFUSED = "station.connection_refused"
# A station reported the progress of a firmware update: organization_id, station_id, status
# (as the station spelled it: 1.6 and 2.0.1 words).
STATION_FIRMWARE_STATUS = "station.firmware_status"
# A station reported the progress of a diagnostics or log upload: organization_id, station_id,
# status.
STATION_DIAGNOSTICS_STATUS = "station.diagnostics_status"
# A station uploaded a diagnostics or log file (stations.diagnostics): organization_id,
# station_id, file_id.
STATION_DIAGNOSTICS_FILE_RECEIVED = "station.diagnostics_file_received"
# Reported settings of a station were stored (a complete NotifyReport, GetVariables and
# SetVariables answers, a 1.6 GetConfiguration or ChangeConfiguration answer): organization_id
# (None while unassigned), station_id, source (stations.models.VariableSource).
STATION_VARIABLES_STORED = "station.variables_stored"
