# The openedx-facilitation release this plugin installs and tags its image with.
__version__ = "0.1.0"
