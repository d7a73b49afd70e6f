"""Stand-in: codejail's configuration entry point (Tutor disables codejail with it)."""


def configure(command, bin_path, user=None):
    pass
