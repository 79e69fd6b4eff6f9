"""The `grok` command line (`grok train | run | book | chapters | status`)."""
from .common import parse_seeds  # noqa: F401
from .main import main  # noqa: F401
