import os

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A private results folder for each test."""
    monkeypatch.setenv("GROK_RESULTS", str(tmp_path / "results"))
    return tmp_path / "results"
