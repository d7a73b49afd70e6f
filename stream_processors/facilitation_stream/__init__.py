"""facilitation_stream."""
