"""facilitation_rules."""
