"""Figures of each paper's chapters (one module per paper)."""
