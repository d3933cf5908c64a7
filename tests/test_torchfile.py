import collections
import io
import pickle

import numpy as np
import pytest

from cclib.model import find_torchvision_weights
from cclib.torchfile import RestrictedUnpickler, TorchFileError, load_state_dict


class Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("payload", [Exploit(), collections.Counter("ab"), {"a": np.float32(1.0)}])
def test_the_unpickler_refuses_every_other_global(payload):
    data = pickle.dumps(payload)
    with pytest.raises(TorchFileError, match="refusing to load"):
        RestrictedUnpickler(io.BytesIO(data)).load()


def test_a_file_that_smuggles_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump(0x1950A86A20F9469CFC6C, handle)
        pickle.dump(1001, handle)
        pickle.dump({"little_endian": True}, handle)
        pickle.dump(Exploit(), handle)
    with pytest.raises(TorchFileError, match="posix.system|os.system|refusing"):
        load_state_dict(path)


def test_non_torch_files_are_refused(tmp_path):
    zipped = tmp_path / "new.pth"
    zipped.write_bytes(b"PK\x03\x04 rest of a zip")
    with pytest.raises(TorchFileError, match="zip-format"):
        load_state_dict(zipped)
    text = tmp_path / "text.pth"
    text.write_text("hello")
    with pytest.raises(TorchFileError):
        load_state_dict(text)


def test_torchvision_mobilenet_v2_is_read_whole():
    state = load_state_dict(find_torchvision_weights())
    assert len(state) == 314
    assert state["features.0.0.weight"].shape == (32, 3, 3, 3)
    assert state["features.1.conv.0.0.weight"].shape == (32, 1, 3, 3)
    assert state["classifier.1.weight"].shape == (1000, 1280)
    assert state["features.0.1.num_batches_tracked"].dtype == np.int64
    assert np.isfinite(state["features.18.1.running_var"]).all()
    assert (state["features.18.1.running_var"] > 0).all()
