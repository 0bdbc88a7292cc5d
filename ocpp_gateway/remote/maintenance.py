"""Maintenance commands: restart, RFID cache, availability, configuration, firmware, lists, profiles."""
