"""OCPI 2.2.1, our CPO role: locations, sessions, CDRs, tariffs out; tokens, commands in."""
