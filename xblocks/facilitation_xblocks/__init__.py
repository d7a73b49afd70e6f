"""facilitation_xblocks."""
