"""P4: the configurations and verdict rules of P4's claims (registered by claim id)."""
from __future__ import annotations
