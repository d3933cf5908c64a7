"""Read a legacy (pre-zip) PyTorch ``.pth`` state dict without PyTorch.

torchvision's ImageNet MobileNetV2 weights (``mobilenet_v2-b0353104.pth``) are
in torch's legacy serialisation, five pickles and raw bytes in a row:

1. a magic number, 2. the protocol version, 3. system information,
4. the state dict, whose tensors point at storages by key,
5. the list of storage keys, then for each key an 8-byte element count and
   the storage's raw little-endian values.

Every pickle is read by one restricted unpickler that admits exactly
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``,
``torch.FloatStorage`` and ``torch.LongStorage`` and refuses anything else,
so a crafted file cannot run code.
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cclib.errors import CclibError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


class TorchFileError(CclibError, ValueError):
    """A file that is not a legacy torch state dict this reader accepts."""


@dataclass(frozen=True)
class _StorageType:
    dtype: str  # numpy dtype of the storage's elements


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: str
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch", "FloatStorage"): _StorageType("<f4"),
    ("torch", "LongStorage"): _StorageType("<i8"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only the four globals a torch state dict needs; refuses any other."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise TorchFileError(f"refusing to load {module}.{name}: not part of a state dict") \
                from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise TorchFileError(f"unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        return _StorageRef(str(key), storage_type.dtype, int(numel))


def _load_pickle(handle):
    try:
        return RestrictedUnpickler(handle).load()
    except TorchFileError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise TorchFileError(f"not a legacy torch file ({type(error).__name__}: {error})") from None


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read a legacy ``.pth`` state dict into numpy arrays.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    state : dict
        Parameter name → array (float32 or int64), in the file's order.

    Raises
    ------
    TorchFileError
        If the file is a zip-format torch file, is not a torch file, or asks
        for any global outside the four a state dict needs.
    """
    path = Path(path)
    try:
        return _read_state_dict(path)
    except TorchFileError as error:  # name the file in every message
        if str(error).startswith(f"{path}:"):
            raise
        raise TorchFileError(f"{path}: {error}") from None
    except OSError as error:
        raise TorchFileError(f"{path}: cannot be read ({error.strerror or error})") from None


def _read_state_dict(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        if handle.read(2) == b"PK":
            raise TorchFileError(f"{path}: a zip-format torch file, not the legacy format")
        handle.seek(0)
        if _load_pickle(handle) != MAGIC_NUMBER:
            raise TorchFileError(f"{path}: wrong magic number, not a legacy torch file")
        if _load_pickle(handle) != PROTOCOL_VERSION:
            raise TorchFileError(f"{path}: unsupported torch protocol version")
        _load_pickle(handle)  # system information: byte order, type sizes
        state = _load_pickle(handle)
        keys = _load_pickle(handle)
        refs = {ref.storage.key: ref.storage for ref in state.values()
                if isinstance(ref, _TensorRef)}
        storages = {}
        for key in keys:
            storage = refs.get(key)
            (count,) = struct.unpack("<q", handle.read(8))
            dtype = np.dtype(storage.dtype if storage else "<f4")
            data = handle.read(count * dtype.itemsize)
            if len(data) != count * dtype.itemsize:
                raise TorchFileError(f"{path}: truncated storage {key}")
            storages[key] = np.frombuffer(data, dtype=dtype)
    tensors = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            raise TorchFileError(f"{path}: entry {name!r} is not a tensor")
        flat = storages.get(ref.storage.key)
        if flat is None:
            raise TorchFileError(f"{path}: tensor {name!r} names a storage the file lacks")
        _check_bounds(path, name, ref, len(flat))
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset:], shape=ref.size, strides=[s * itemsize for s in ref.stride])
        tensors[name] = np.array(view)  # own the memory, in C order
    return tensors


def _check_bounds(path: Path, name: str, ref: _TensorRef, count: int) -> None:
    """Refuse a tensor whose view would reach outside its storage of ``count`` elements.

    ``as_strided`` trusts its arguments: without this check a crafted file
    could copy process memory into the weights, or crash the interpreter.
    """
    fields = (ref.offset, *ref.size, *ref.stride)
    if (len(ref.size) != len(ref.stride) or not all(isinstance(v, int) for v in fields)
            or min(fields, default=0) < 0):
        raise TorchFileError(f"{path}: tensor {name!r} has a malformed shape or stride")
    if 0 in ref.size:
        return
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    if last >= count:
        raise TorchFileError(f"{path}: tensor {name!r} reaches element {last} of a storage "
                             f"of {count}")
