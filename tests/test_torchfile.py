import collections
import io
import pickle
import struct
import sys
import types

import numpy as np
import pytest

from cclib.model import find_torchvision_weights
from cclib.torchfile import (MAGIC_NUMBER, PROTOCOL_VERSION, RestrictedUnpickler, TorchFileError,
                             load_state_dict)


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
    with pytest.raises(TorchFileError, match=r"text\.pth: not a legacy torch file"):
        load_state_dict(text)
    with pytest.raises(TorchFileError, match=r"missing\.pth: cannot be read"):
        load_state_dict(tmp_path / "missing.pth")


def test_torchvision_mobilenet_v2_is_read_whole():
    state = load_state_dict(find_torchvision_weights())
    assert len(state) == 314
    assert state["features.0.0.weight"].shape == (32, 3, 3, 3)
    assert state["features.1.conv.0.0.weight"].shape == (32, 1, 3, 3)
    assert state["classifier.1.weight"].shape == (1000, 1280)
    assert state["features.0.1.num_batches_tracked"].dtype == np.int64
    assert np.isfinite(state["features.18.1.running_var"]).all()
    assert (state["features.18.1.running_var"] > 0).all()


def write_legacy_pth(path, tensors, monkeypatch):
    """Write a legacy torch state dict of float32 tensors without torch.

    ``tensors``: name → (storage values, offset, size, stride), any of them
    as hostile as a test needs. torch's two globals are stood in by modules
    made here, so that the file names exactly what a real one names.
    """
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    storage_type = type("FloatStorage", (), {"__module__": "torch", "__qualname__": "FloatStorage"})

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled, never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, torch._utils = storage_type, _rebuild_tensor_v2, utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class Storage:
        def __init__(self, key, values):
            self.key, self.values = key, values

    class Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return _rebuild_tensor_v2, self.args

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", storage_type, obj.key, "cpu", len(obj.values))
            return None

    storages = {name: Storage(str(i), np.asarray(values, "<f4"))
                for i, (name, (values, *_)) in enumerate(tensors.items())}
    state = collections.OrderedDict(
        (name, Tensor(storages[name], offset, size, stride))
        for name, (_, offset, size, stride) in tensors.items())
    with open(path, "wb") as handle:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(header, handle, protocol=2)
        Pickler(handle, protocol=2).dump(state)
        pickle.dump([s.key for s in storages.values()], handle, protocol=2)
        for storage in storages.values():
            handle.write(struct.pack("<q", len(storage.values)) + storage.values.tobytes())


@pytest.mark.parametrize("offset, size, stride, reason", [
    (0, (2, 3), (3, 1), None),  # a well-formed tensor, read back exactly
    (5, (2, 3), (3, 1), "reaches element 10 of a storage of 6"),
    (0, (4, 3), (3, 1), "reaches element 11"),
    (0, (2, 3), (1000000, 1), "reaches element 1000002"),
    (0, (2, 3), (-3, 1), "has a malformed shape or stride"),
    (0, (2, 3), (3,), "has a malformed shape or stride"),
])
def test_a_tensor_outside_its_storage_is_refused(tmp_path, monkeypatch, offset, size, stride,
                                                 reason):
    path = tmp_path / "crafted.pth"
    write_legacy_pth(path, {"w": (np.arange(6), offset, size, stride)}, monkeypatch)
    if reason is None:
        np.testing.assert_array_equal(load_state_dict(path)["w"], np.arange(6).reshape(2, 3))
    else:
        with pytest.raises(TorchFileError, match=f"crafted.pth: tensor 'w' {reason}"):
            load_state_dict(path)
