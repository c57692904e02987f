"""Fixtures for the whole suite."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One intra-op thread: the suite's tiny models train many times faster than with threads fighting over
    the 2 shared cores of CI."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
