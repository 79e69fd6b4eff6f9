"""What every `grok` subcommand shares: one-line errors with exit status 2, and value parsers."""
from __future__ import annotations

import argparse
import sys


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def fail(message: str):
    sys.stderr.write(f"grok: error: {message}\n")
    sys.exit(2)


def check_seed_offset(k: int):
    """A --seed-offset value: a non-negative integer, else a one-line error (exit status 2)."""
    if k < 0:
        fail(f"--seed-offset must be a non-negative integer, got {k}")


def parse_seeds(text: str) -> tuple[int, ...]:
    """'8' -> 0..7; '1,4' -> (1, 4); '2-4' -> (2, 3, 4); '5-5' -> (5,)."""
    try:
        if "," in text:
            return tuple(int(s) for s in text.split(","))
        if "-" in text.strip("-"):
            lo, hi = (int(s) for s in text.split("-"))
            if hi < lo:
                raise ValueError
            return tuple(range(lo, hi + 1))
        n = int(text)
        if n < 1:
            raise ValueError
        return tuple(range(n))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seeds {text!r}; use a count (8), a list (1,4) or an inclusive range (2-4)") from None


def csv_of(kind):
    def parse(text: str):
        try:
            return [kind(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"cannot parse {text!r} as {kind.__name__}") from None
    parse.__name__ = kind.__name__
    return parse


def str_list(text):
    return text.split(",")
