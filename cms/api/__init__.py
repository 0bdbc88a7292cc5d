"""The REST API's shared base: tenant viewset, role permission, pagination, errors, the router."""
