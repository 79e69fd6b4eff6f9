"""P2: the configurations and verdict rules of P2's claims (registered by claim id)."""
from __future__ import annotations
