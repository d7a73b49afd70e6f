"""The XBlocks: Discussion, Reflection and the staff-only Tutor view."""
