import gzip

import numpy as np
import pytest
from image_formats import idx_bytes, write_idx

from graphcurv.datasets import read_idx
from graphcurv.errors import GraphcurvError


@pytest.mark.parametrize("compress", [True, False])
def test_images_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "x-idx3-ubyte", images, compress=compress)
    out = read_idx(path)
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    assert out[1, 2, 3] == 23 and out[0, 1, 0] == 4  # C order: index (i, j, k) holds 12 i + 4 j + k


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"  # no .gz suffix, gzip content
    path.write_bytes(gzip.compress(idx_bytes(np.array([9, 0, 3], dtype=np.uint8))))
    assert read_idx(path).tolist() == [9, 0, 3]


@pytest.mark.parametrize("type_code,values", [(0x0B, [-2, 300]), (0x0C, [70000, -1]), (0x0D, [0.5, -1.25])])
def test_big_endian_element_types(tmp_path, type_code, values):
    path = tmp_path / "v.idx"
    path.write_bytes(idx_bytes(np.array(values), type_code))
    assert read_idx(path).tolist() == values


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(GraphcurvError, match="bad-idx3-ubyte.*not an IDX file"):
        read_idx(path)


def test_truncated_data_reports_expected_size(tmp_path):
    path = tmp_path / "t-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((2, 2, 2), dtype=np.uint8))[:-3])
    with pytest.raises(GraphcurvError, match=r"shape \(2, 2, 2\) \(8 bytes of data\) but the file has 5"):
        read_idx(path)


def test_unknown_type_and_corrupt_gzip(tmp_path):
    bad_type = tmp_path / "u.idx"
    bad_type.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x05")
    with pytest.raises(GraphcurvError, match="element type 0x07"):
        read_idx(bad_type)
    broken = tmp_path / "b.gz"
    broken.write_bytes(gzip.compress(idx_bytes(np.zeros(50, dtype=np.uint8)))[:20])
    with pytest.raises(GraphcurvError, match="corrupt gzip"):
        read_idx(broken)
    with pytest.raises(GraphcurvError, match="no such file"):
        read_idx(tmp_path / "missing")
