import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Small batched ops run as fast on one thread, and stay fast when the machine is busy
    (OpenMP threads of several processes on 2 cores slow down tenfold)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
