"""OCPI 2.2.1, our eMSP role: locations, sessions, CDRs, tariffs in; our tokens out."""
