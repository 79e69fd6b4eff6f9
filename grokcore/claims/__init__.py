"""Claims: one module per paper with its configurations and its verdict rules (registered by
claim id), the statistics they share, and the ledger. Imports grokcore.core and grokcore.results."""
