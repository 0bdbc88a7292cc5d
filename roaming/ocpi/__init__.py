"""OCPI: the envelope, partner-token authentication, pagination and the client, per version.

One package per OCPI version (`v221/`), as the OCPP gateway has one per OCPP version; a 2.3.0
package sits beside it with its own modules and a row in `versions.VERSIONS`.
"""
