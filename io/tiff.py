"""TIFF volumes: multi-page stacks (plain, ImageJ hyperstacks, OME-TIFF), folders of 2D slices.

Reading returns the stack as ``[z, y, x]`` (pages are z) with the voxel size the file carries:

- ElectroVox's own exact record (JSON under the key ``electrovox`` in the ImageJ description or
  in tifffile's shaped-JSON description), written by :func:`write_tiff`;
- ImageJ: ``unit`` + X/YResolution (pixels per unit) + ``spacing`` (z step in ``unit``; ImageJ
  omits it when it is 1 unit), ``xorigin``/``yorigin``/``zorigin`` (in pixels);
- OME-TIFF: ``PhysicalSizeX/Y/Z`` with their ``...Unit`` (default um).

Plain TIFF resolution tags give only x and y, so such files need ``spacing`` (CLI ``--voxel-um``).
Damage is reported as BadInput: tifffile logs (rather than raises) many problems with damaged
files and returns partial data, so its log is captured and checked.

tifffile is imported inside the functions: Debian's ParaView Python may not have it installed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.io._common import (
    EVX_KEY,
    Loaded,
    legend_from_json,
    native,
    need,
    notice,
    one_line,
    require_fits,
    to_json,
    unit_to_um,
)
from electrovox.progress import report
from electrovox.volume import require_spacing

__all__ = ["read_tiff", "read_folder", "write_tiff", "TIFF_SUFFIXES", "MEMMAP_MIN_BYTES", "RGB_FIX"]

TIFF_SUFFIXES = (".tif", ".tiff")

#: uncompressed contiguous stacks at least this big are memory-mapped instead of read
MEMMAP_MIN_BYTES = 64 * 2**20

RGB_FIX = ("convert to greyscale (ImageJ: Image > Type > 8-bit; Python: tifffile + "
           "skimage.color.rgb2gray)")
_DAMAGED_FIX = "the file is damaged or truncated; export or copy it again"
_CHANNEL_AXES = "SC"  # tifffile axis codes: S = samples (RGB), C = channels (ImageJ composite)


class _LogRecords(logging.Handler):
    """tifffile's log records of ONE thread (slices are read by several threads at once)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.thread == self.thread:
            self.records.append(record)

    def errors(self) -> list[str]:
        return [one_line(r.getMessage()) for r in self.records if r.levelno >= logging.ERROR]


_LOG_LOCK = threading.Lock()
_LOG_USERS = [0, True]  # captures in progress, the logger's own propagate setting


@contextlib.contextmanager
def _tifffile_log():
    """Capture tifffile's log (not printed) so damaged-file errors can become BadInput.

    Thread-safe: each capture sees its own thread's records, and the logger's ``propagate`` is
    switched off while any capture runs and restored when the last one ends.
    """
    logger = logging.getLogger("tifffile")
    handler = _LogRecords()
    with _LOG_LOCK:
        if _LOG_USERS[0] == 0:
            _LOG_USERS[1] = logger.propagate
            logger.propagate = False
        _LOG_USERS[0] += 1
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        with _LOG_LOCK:
            logger.removeHandler(handler)
            _LOG_USERS[0] -= 1
            if _LOG_USERS[0] == 0:
                logger.propagate = _LOG_USERS[1]


def _check_log(log: _LogRecords, source) -> None:
    errs = log.errors()
    if errs:
        # drop tifffile's "<tifffile.TiffFile 'x.tif'>" prefix: BadInput names the file already
        msg = re.sub(r"^<[^>]*>\s*", "", errs[0])
        raise BadInput(source, f"is damaged: {msg}", _DAMAGED_FIX)


def _open(path, source=None):
    """Open a TiffFile, turning 'not a TIFF' and I/O errors into BadInput."""
    tifffile = _tifffile()

    source = source or path
    try:
        return tifffile.TiffFile(str(path))
    except tifffile.TiffFileError as exc:
        raise BadInput(source, f"is not a TIFF file ({one_line(exc)})",
                       "give a TIFF file, or rename the file to its real format's suffix") from None
    except (OSError, ValueError, EOFError, IndexError, KeyError) as exc:
        raise BadInput(source, f"cannot be read as TIFF ({one_line(exc)})", _DAMAGED_FIX) from None


def _tifffile():
    return need("tifffile", "pip install tifffile (ParaView's Python: bin/setup-paraview builds .venv-pv)")


# --- geometry --------------------------------------------------------------------------------

def _positive(values):
    """The tuple if every value is finite and > 0, else None."""
    if values is None or any(v is None for v in values):
        return None
    vals = tuple(float(v) for v in values)
    return vals if all(math.isfinite(v) and v > 0 for v in vals) else None


def _resolution(page, name: str) -> float | None:
    """Pixels per resolution unit from an X/YResolution tag, or None."""
    tag = page.tags.get(name)
    if tag is None:
        return None
    value = tag.value
    try:
        res = value[0] / value[1] if isinstance(value, tuple) else float(value)
    except (TypeError, ZeroDivisionError, IndexError):
        return None
    return res if math.isfinite(res) and res > 0 else None


def _evx_record(tif) -> dict | None:
    """ElectroVox's own JSON record from an ImageJ or shaped description, or None."""
    rec = None
    if tif.is_imagej and tif.imagej_metadata:
        rec = tif.imagej_metadata.get(EVX_KEY)
    if rec is None and tif.is_shaped:
        shaped = tif.shaped_metadata or ()
        rec = shaped[0].get(EVX_KEY) if shaped else None
    if isinstance(rec, str):
        try:
            rec = json.loads(rec)
        except ValueError:
            return None
    return rec if isinstance(rec, dict) else None


def _imagej_geometry(tif, page, z_default: bool):
    """(spacing, origin) in um from ImageJ metadata, or (None, None) if it has no length unit.

    ``z_default``: use ImageJ's implicit z step of 1 unit when ``spacing`` is absent (true for a
    stack ImageJ saved; a single 2D slice has no z information at all).
    """
    ij = tif.imagej_metadata or {}
    factor = unit_to_um(ij.get("unit"))
    if factor is None:
        return None, None
    xres = _resolution(page, "XResolution") or 1.0
    yres = _resolution(page, "YResolution") or xres
    dx, dy = factor / xres, factor / yres
    if "spacing" in ij:
        try:
            dz = abs(float(ij["spacing"])) * factor
        except (TypeError, ValueError):
            dz = None
    else:
        dz = factor if z_default else None
    spacing = _positive((dz, dy, dx))

    def _orig(key, step):
        try:
            return -float(ij.get(key, 0.0)) * step if step else 0.0
        except (TypeError, ValueError):
            return 0.0

    origin = (_orig("zorigin", dz), _orig("yorigin", dy), _orig("xorigin", dx))
    return spacing, origin


def _ome_spacing(tif):
    """Spacing (z, y, x) um from OME-XML PhysicalSizeX/Y/Z (+ units), or None."""
    try:
        root = ET.fromstring(tif.ome_metadata)
    except (ET.ParseError, TypeError, ValueError):
        return None
    pixels = next((el for el in root.iter() if el.tag.split("}")[-1] == "Pixels"), None)
    if pixels is None:
        return None
    out = []
    for ax in "ZYX":
        value = pixels.get(f"PhysicalSize{ax}")
        factor = unit_to_um(pixels.get(f"PhysicalSize{ax}Unit", "µm"))  # OME default unit: um
        if value is None or factor is None:
            return None
        try:
            out.append(float(value) * factor)
        except ValueError:
            return None
    return _positive(out)


def _geometry(tif, page, z_default: bool) -> dict:
    """What the TIFF says about geometry and labels.

    Keys spacing, origin, legend, name, metadata, provenance, spacing_source (absent keys: not
    carried).
    """
    out: dict = {}
    rec = _evx_record(tif)
    if rec is not None:
        spacing = _positive(rec.get("spacing_um"))
        if spacing is not None:
            out["spacing"] = spacing
            out["spacing_source"] = "electrovox"
        origin = rec.get("origin_um")
        if origin is not None and len(origin) == 3:
            out["origin"] = tuple(float(o) for o in origin)
        try:
            out["legend"] = legend_from_json(rec.get("legend"))
        except (ValueError, TypeError):
            out["legend"] = None
        if rec.get("name"):
            out["name"] = str(rec["name"])
        out["metadata"] = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
        out["provenance"] = rec.get("provenance") if isinstance(rec.get("provenance"), list) else []
    if tif.is_imagej:
        spacing, origin = _imagej_geometry(tif, page, z_default)
        # ImageJ's calibration wins over our record when they disagree: a tool that kept the
        # description line but recalibrated the image has the newer value
        if spacing is not None and ("spacing" not in out
                                    or not np.allclose(spacing, out["spacing"], rtol=1e-6)):
            out["spacing"], out["spacing_source"], out["origin"] = spacing, "ImageJ", origin
    if "spacing" not in out and tif.is_ome:
        spacing = _ome_spacing(tif)
        if spacing is not None:
            out["spacing"], out["spacing_source"] = spacing, "OME"
    return out


# --- axes ------------------------------------------------------------------------------------

def _to_grey(data: np.ndarray, axes: str, source, notices: list) -> tuple[np.ndarray, str]:
    """Remove colour/channel axes: equal channels -> one (with a notice), else BadInput."""
    for code in _CHANNEL_AXES:
        if code not in axes:
            continue
        ax = axes.index(code)
        n = data.shape[ax]
        if n > 1:
            # for RGB(A) compare the colour samples only; alpha is not an intensity
            ncmp = min(n, 3) if code == "S" else n
            first = np.take(data, 0, axis=ax)
            equal = all(np.array_equal(np.take(data, i, axis=ax), first) for i in range(1, ncmp))
            if not equal:
                if code == "S":
                    raise BadInput(source, f"is an RGB colour image ({n} samples per pixel); "
                                   "a greyscale or label image is expected", RGB_FIX)
                raise BadInput(source, f"holds {n} different channels; one greyscale or label channel "
                               "is expected", "keep one channel (ImageJ: Image > Color > Split Channels, "
                               "then save the one you need)")
            kind = "RGB" if code == "S" else f"{n}-channel"
            notices.append(f"{source}: {kind} image with equal channels: read as greyscale")
            data = first
        else:
            data = np.take(data, 0, axis=ax)
        axes = axes[:ax] + axes[ax + 1:]
    return data, axes


def _to_zyx(data: np.ndarray, axes: str, source) -> np.ndarray:
    """A [z, y, x] view of grey data with tifffile ``axes`` ending in 'YX'."""
    if not axes.endswith("YX"):
        raise BadInput(source, f"has image axes '{axes}' without rows and columns last",
                       "save the stack as an ordinary multi-page TIFF")
    keep = [i for i, a in enumerate(axes[:-2]) if data.shape[i] > 1]
    if len(keep) > 1:
        desc = " x ".join(f"{axes[i]}={data.shape[i]}" for i in keep)
        raise BadInput(source, f"is a hyperstack with more than one stack axis ({desc}); one 3D stack "
                       "is expected", "save one time point and one channel as a stack "
                       "(ImageJ: Image > Duplicate with a single frame and channel)")
    ny, nx = data.shape[-2:]
    nz = data.shape[keep[0]] if keep else 1
    return data.reshape(nz, ny, nx)


# --- reading a stack -------------------------------------------------------------------------

def _check_extent(series, path, size: int) -> None:
    """BadInput if the image data reach beyond the end of the file (truncated copy)."""
    end = 0
    if series.dataoffset is not None:
        end = int(series.dataoffset) + int(series.nbytes)
    else:
        for page in series.pages:
            if page is None:
                continue
            pairs = [(o, c) for o, c in zip(page.dataoffsets, page.databytecounts, strict=False) if o]
            if pairs:
                end = max(end, max(int(o) + int(c) for o, c in pairs))
    if end > size:
        raise BadInput(path, f"is truncated: it is {size} bytes but its image data need {end} bytes",
                       _DAMAGED_FIX)


def _read_pages(pages, shape2d, dtype, path, progress) -> np.ndarray:
    """Read 2D pages one by one into a preallocated [n, y, x] array (progress per page)."""
    out = np.empty((len(pages),) + tuple(shape2d), dtype=np.dtype(dtype).newbyteorder("="))
    for k, page in enumerate(pages):
        plane = page.asarray()
        if plane.shape != out.shape[1:]:
            raise BadInput(path, f"page {k + 1} is {_size(plane.shape)}, expected {_size(out.shape[1:])}",
                           "save a stack whose pages all have the same size and type")
        out[k] = plane
        report(progress, (k + 1) / len(pages), f"page {k + 1}/{len(pages)}")
    return out


def _size(shape) -> str:
    """'W x H pixels' (+ samples) of a page/slice shape (rows, columns[, samples])."""
    text = f"{shape[1]}x{shape[0]} pixels" if len(shape) >= 2 else f"{shape}"
    return text + (f" x {shape[2]} samples" if len(shape) == 3 else "")


def _uniform_pages(tif, path) -> list:
    """All pages, if they share shape and dtype; else BadInput naming the first odd page."""
    pages = list(tif.pages)
    first = pages[0]
    for i, p in enumerate(pages[1:], start=2):
        if p.shape != first.shape or p.dtype != first.dtype:
            h, h0 = _size(p.shape), _size(first.shape)
            raise BadInput(path, f"page {i} is {h} of {p.dtype}, but page 1 is {h0} of {first.dtype}",
                           "save a stack whose pages all have the same size and type")
    return pages


def _read_stack(tif, path, progress, log, need_spacing=False) -> Loaded:
    tifffile = _tifffile()

    if not tif.series or not len(tif.pages):
        raise BadInput(path, "holds no image", "give a TIFF that holds an image stack")
    _check_log(log, path)
    if need_spacing and _geometry(tif, tif.pages[0], z_default=True).get("spacing") is None:
        require_spacing(None, path)  # before reading gigabytes, not after
    notices: list[str] = []
    size = Path(path).stat().st_size
    if len(tif.series) > 1:
        # tifffile splits pages of different shapes/types into several series
        pages = _uniform_pages(tif, path)
        for s in tif.series:
            _check_extent(s, path, size)
        page0 = pages[0]
        page_bytes = math.prod(page0.shape) * page0.dtype.itemsize
        # one array of all pages (a list of pages and their stack for pages with samples)
        require_fits(page_bytes * len(pages) * (1 if page0.axes == "YX" else 2), path,
                     (len(pages),) + tuple(page0.shape[:2]), page0.dtype)
        if page0.axes == "YX":
            data = _read_pages(pages, page0.shape, page0.dtype, path, progress)
        else:
            data = native(np.stack([p.asarray() for p in pages]))
        axes = "I" + page0.axes
    else:
        series = tif.series[0]
        _check_extent(series, path, size)
        axes, shape, dtype = series.axes, tuple(series.shape), series.dtype
        page0 = series.pages[0] if len(series.pages) else tif.pages[0]
        channels = any(axes[i] in _CHANNEL_AXES and shape[i] > 1 for i in range(len(axes)))
        planes = math.prod(shape[:-2]) if axes.endswith("YX") else -1
        contiguous = (series.dataoffset is not None and dtype.isnative
                      and int(series.nbytes) >= MEMMAP_MIN_BYTES and not channels)
        data = None
        if contiguous:
            try:
                # copy-on-write map: large stacks open without being read; edits stay in memory
                data = tifffile.memmap(str(path), series=0, mode="c")
            except (ValueError, OSError):
                data = None
            else:
                report(progress, 1.0, "memory-mapped")
        if data is None:
            # in memory: the stack, a native-order copy when the file's byte order is not this
            # machine's, and the grey copy of a colour or channel stack
            need = int(series.nbytes) * (1 + (not dtype.isnative) + channels)
            require_fits(need, path, shape, dtype, "with a byte-swapped or grey copy" if need > int(series.nbytes)
                         else "")
        if data is None and planes == len(series.pages) and all(p is not None for p in series.pages):
            data = _read_pages(series.pages, shape[-2:], dtype, path, progress).reshape(shape)
        if data is None:
            data = series.asarray()
            report(progress, 1.0, "read")
        data = native(data)  # only non-native data were not memory-mapped: no copy of a map
    _check_log(log, path)
    data, axes = _to_grey(data, axes, path, notices)
    array = _to_zyx(data, axes, path)
    for msg in notices:
        notice(msg)
    geo = _geometry(tif, page0, z_default=True)
    fmt = "ImageJ" if tif.is_imagej else "OME-TIFF" if tif.is_ome else "TIFF"
    meta = dict(geo.get("metadata") or {})
    meta.update({"format": fmt, "file_axes": axes})
    return Loaded(array=array, spacing=geo.get("spacing"), origin=geo.get("origin"),
                  legend=geo.get("legend"), name=geo.get("name"), metadata=meta,
                  provenance=list(geo.get("provenance") or []),
                  spacing_source=geo.get("spacing_source", ""))


def read_tiff(path, progress=None, need_spacing=False) -> Loaded:
    """Read a multi-page TIFF (plain, ImageJ hyperstack with one stack axis, OME-TIFF).

    Parameters
    ----------
    path : str or Path
        The file.
    progress : callable, optional
        ``progress(fraction, message)``.
    need_spacing : bool
        Refuse (BadInput) before reading the data when the file carries no voxel size.

    Returns
    -------
    Loaded
        The [z, y, x] native-order array (memory-mapped when uncompressed, contiguous and at least
        :data:`MEMMAP_MIN_BYTES`), spacing and origin in um when carried, ElectroVox's legend,
        metadata and provenance when stored.  RGB with equal channels is read as grey with a
        notice on stderr.

    Raises
    ------
    BadInput
        Every failure: not a TIFF, damaged or truncated, colour, several stack axes, no voxel size
        (with ``need_spacing``), or too large for the memory available (checked from the header
        before the data are read; memory-mapped stacks are not refused).
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "check the path")
    with _tifffile_log() as log:
        tif = _open(path)
        try:
            with tif:
                return _read_stack(tif, path, progress, log, need_spacing)
        except (BadInput, MemoryError):
            raise
        except Exception as exc:  # tifffile/codec errors on damaged data: report, never a traceback
            raise BadInput(path, f"cannot be read ({type(exc).__name__}: {one_line(exc)[:200]})",
                           _DAMAGED_FIX) from None


# --- reading a folder of slices --------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$")


def _slice_files(folder: Path) -> list[Path]:
    """The folder's TIFF slices in slice-number order, checked for gaps and duplicates."""
    files = [f for f in folder.iterdir()
             if f.suffix.lower() in TIFF_SUFFIXES and not f.name.startswith(".") and f.is_file()]
    if not files:
        raise BadInput(folder, "holds no TIFF slices (*.tif, *.tiff)",
                       "give the folder that holds the slices, or the stack file itself")
    if len(files) == 1:
        return files
    numbered: dict[int, list[Path]] = {}
    series: dict[tuple[str, str], int] = {}
    for f in files:
        m = _NUMBERED.match(f.stem)
        if m is None:
            raise BadInput(folder, f"cannot order the slices: '{f.name}' has no slice number",
                           "name the slices with numbers (slice_0001.tif, ...) and keep other TIFF "
                           "files out of the folder")
        key = (m.group(1), m.group(3))
        series[key] = series.get(key, 0) + 1
        numbered.setdefault(int(m.group(2)), []).append(f)
    if len(series) > 1:
        desc = " and ".join(f"'{a}N{b}' ({n} files)" for (a, b), n in sorted(series.items())[:3])
        raise BadInput(folder, f"mixes several slice series: {desc}",
                       "keep one series of slices in the folder")
    for idx, group in sorted(numbered.items()):
        if len(group) > 1:
            names = " and ".join(sorted(g.name for g in group))
            raise BadInput(folder, f"holds slice number {idx} twice: {names}",
                           "remove or rename one of them")
    idx = sorted(numbered)
    missing = sorted(set(range(idx[0], idx[-1] + 1)) - set(idx))
    if missing:
        m0 = missing[0]
        before = numbered[max(i for i in idx if i < m0)][0].name
        after = numbered[min(i for i in idx if i > m0)][0].name
        more = f" ({len(missing)} missing in all: {', '.join(map(str, missing[:10]))}" \
               f"{', ...' if len(missing) > 10 else ''})" if len(missing) > 1 else ""
        raise BadInput(folder, f"slice number {m0} is missing (between {before} and {after}){more}",
                       "add the missing slice, or renumber the slices without gaps")
    return [numbered[i][0] for i in idx]


def _read_slice(f: Path, notices: list, geometry: bool = False):
    """One 2D grey slice [y, x]; with ``geometry``, also what its metadata say (see _geometry)."""
    with _tifffile_log() as log:
        tif = _open(f)
        try:
            with tif:
                _check_log(log, f)
                if not tif.series:
                    raise BadInput(f, "holds no image", "export the slice again")
                series = tif.series[0]
                _check_extent(series, f, f.stat().st_size)
                data, axes = _to_grey(native(series.asarray()), series.axes, f, notices)
                _check_log(log, f)
                if any(n > 1 for n in data.shape[:-2]):
                    raise BadInput(f, f"holds {math.prod(data.shape[:-2])} images; a slice must be one 2D "
                                   "image", "give the multi-page file itself instead of the folder")
                data = data.reshape(data.shape[-2:])
                if not geometry:
                    return data, None
                page = series.pages[0] if len(series.pages) else tif.pages[0]
                return data, _geometry(tif, page, z_default=False)
        except (BadInput, MemoryError):
            raise
        except Exception as exc:  # damaged slice: name it
            raise BadInput(f, f"cannot be read ({type(exc).__name__}: {one_line(exc)[:200]})",
                           "the slice is damaged; export it again") from None


def _check_and_store(out, k, f, plane, first, first_file) -> None:
    """Put slice ``k`` into ``out`` after checking it matches the first slice's size and dtype."""
    if plane.shape != first.shape or plane.dtype != first.dtype:
        got, want = _size(plane.shape), _size(first.shape)
        raise BadInput(f, f"is {got} of {plane.dtype}, but the slices before it are {want} "
                       f"of {first.dtype} (like {first_file.name})",
                       "make all slices the same size and type (export the stack again)")
    out[k] = plane


def read_folder(folder, progress=None, need_spacing=False) -> Loaded:
    """Read a folder of 2D TIFF slices into a [z, y, x] array.

    The slices are ordered by the number in their names (natural order: slice2 before slice10).
    Voxel size: x, y and z from the first slice's metadata when it carries all three (ImageJ
    ``spacing`` or OME PhysicalSizeZ); a 2D slice rarely carries z, so ``spacing`` is usually
    needed.

    Parameters
    ----------
    folder : str or Path
        The folder.
    progress : callable, optional
        ``progress(fraction, message)``.
    need_spacing : bool
        Refuse before reading every slice when the first carries no voxel size.

    Returns
    -------
    Loaded
        The stack and what the first slice carries.

    Raises
    ------
    BadInput
        Gaps, duplicates, unreadable slices, slices whose size or type differs from the first
        (naming that slice), or a stack too large for the memory available (checked from the
        first slice before the others are read).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "does not exist", "check the path")
    files = _slice_files(folder)
    notices: list[str] = []
    first, geo = _read_slice(files[0], notices, geometry=True)
    if need_spacing and geo.get("spacing") is None:
        require_spacing(None, folder)  # before reading every slice, not after
    require_fits(first.nbytes * len(files), folder, (len(files),) + first.shape, first.dtype)
    out = np.empty((len(files),) + first.shape, dtype=first.dtype)
    out[0] = first
    report(progress, 1 / len(files), f"slice 1/{len(files)}")
    # slices are decoded by a few threads (file I/O and the codecs release the GIL), in order, a
    # bounded window at a time: the first bad slice in slice order is the one reported
    workers = min(4, os.cpu_count() or 1)
    window = 4 * workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        def planes():
            for a in range(1, len(files), window):
                yield from pool.map(lambda f: _read_slice(f, notices)[0], files[a:a + window])
        for k, (f, plane) in enumerate(zip(files[1:], planes(), strict=True), start=1):
            _check_and_store(out, k, f, plane, first, files[0])
            report(progress, (k + 1) / len(files), f"slice {k + 1}/{len(files)}")
    if notices:
        # one line for the folder, not one per slice
        notice(f"{folder}: {len(notices)} RGB slice(s) with equal channels read as greyscale")
    meta = dict(geo.get("metadata") or {})
    meta.update({"format": "TIFF slices", "slices": len(files), "first_slice": files[0].name,
                 "last_slice": files[-1].name})
    return Loaded(array=out, spacing=geo.get("spacing"), origin=geo.get("origin"),
                  legend=geo.get("legend"), name=geo.get("name"), metadata=meta,
                  provenance=list(geo.get("provenance") or []),
                  spacing_source=geo.get("spacing_source", ""))


# --- writing ---------------------------------------------------------------------------------

def _record(volume) -> dict:
    """ElectroVox's exact record of a volume (JSON-ready): geometry, name, legend, history."""
    rec = {"spacing_um": list(volume.spacing), "origin_um": list(volume.origin), "name": volume.name,
           "legend": None if volume.legend is None
           else {str(k): v for k, v in sorted(volume.legend.items())},
           "metadata": volume.metadata, "provenance": volume.provenance}
    return json.loads(to_json(rec))


def write_tiff(path, volume, progress=None) -> None:
    """Write a volume as a multi-page TIFF (one page per z).

    uint8, uint16, int16 and float32 are written ImageJ-compatible: unit 'um', X/YResolution =
    1/dx, 1/dy pixels per um, ``spacing`` = dz, ``x/y/zorigin`` in pixels.  Other dtypes (ImageJ
    cannot hold them) are written as plain TIFF with tifffile's shaped description and resolution
    in pixels per cm.  Both carry the exact spacing, origin, name, legend, metadata and provenance
    as JSON under the key ``electrovox``.  Uncompressed, so that large stacks can be
    memory-mapped when read back.

    Parameters
    ----------
    path : str or Path
        The file to create (call it on a temporary name; see :mod:`electrovox.io.atomic`).
    volume : Volume
        What to write.
    progress : callable, optional
        ``progress(fraction, message)``.
    """
    tifffile = _tifffile()

    a = volume.array
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    a = native(a)
    nz = a.shape[0]
    dz, dy, dx = volume.spacing
    z0, y0, x0 = volume.origin

    def pages():
        for k in range(nz):
            yield np.ascontiguousarray(a[k])
            report(progress, (k + 1) / nz, f"page {k + 1}/{nz}")

    rec = _record(volume)
    if a.dtype.char in "BHhf":
        meta = {"axes": "ZYX", "spacing": dz, "unit": "um", "xorigin": -x0 / dx, "yorigin": -y0 / dy,
                "zorigin": -z0 / dz, EVX_KEY: json.dumps(rec)}
        tifffile.imwrite(str(path), pages(), shape=a.shape, dtype=a.dtype, imagej=True,
                         photometric="minisblack", resolution=(1.0 / dx, 1.0 / dy), metadata=meta)
    else:
        tifffile.imwrite(str(path), pages(), shape=a.shape, dtype=a.dtype, photometric="minisblack",
                         resolution=(1e4 / dx, 1e4 / dy), resolutionunit="CENTIMETER",
                         metadata={"axes": "ZYX", EVX_KEY: rec})
