"""A seeded course calibrated to the reference MOOC, and a term run with tutors in the loop.

Owns the simulated course as contract events (``course``) and the term run through the
engine with a simulated tutor team (``term``), used by ``facilitation simulate`` and the
demo. May import everything else in the core; nothing imports it.
"""
