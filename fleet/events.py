"""Events of fleet campaigns, emitted after commit by fleet.services.

Each carries organization_id and campaign_id; the station events station_id,
campaign_station_id and state too.
"""

# A draft was launched: its stations are frozen (count).
CAMPAIGN_LAUNCHED = "campaign.launched"
# Paused by hand or by the failure threshold: reason, automatic (True: by the threshold), wave.
CAMPAIGN_PAUSED = "campaign.paused"
# Resumed by hand.
CAMPAIGN_RESUMED = "campaign.resumed"
# Cancelled by hand: stations not yet sent to are cancelled.
CAMPAIGN_CANCELLED = "campaign.cancelled"
# Every station finished (confirmed, failed or cancelled): confirmed, failed.
CAMPAIGN_COMPLETED = "campaign.completed"
# The wave moved on: wave (the new current wave).
CAMPAIGN_WAVE_STARTED = "campaign.wave_started"
# One station's row changed state: campaign_station_id, station_id, state, error.
CAMPAIGN_STATION_UPDATED = "campaign.station_updated"

CAMPAIGN_EVENTS = (
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_RESUMED,
    CAMPAIGN_CANCELLED,
    CAMPAIGN_COMPLETED,
    CAMPAIGN_WAVE_STARTED,
    CAMPAIGN_STATION_UPDATED,
)
