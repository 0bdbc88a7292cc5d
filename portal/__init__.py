"""The operator web portal: base views, live updates, preferences and shared templates."""
