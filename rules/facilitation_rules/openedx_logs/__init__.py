"""The Open edX tracking log, translated into the contract (pure: time from the record).

Owns reading a record's common fields whatever its shape (``fields``), the forum's
``edx.forum.*`` translators (``forum``), the whole record -> contract events translation
(``translate``) and a lean reading of the commonest line, plain learner activity
(``lean_activity``). The batch bridge, the live LMS path and replay all translate with it.
May import ``contract`` only.
"""
