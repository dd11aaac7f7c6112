"""A second render process: on two or more cores it renders frames alongside this one.

Much of a frame's render holds the GIL (small numpy steps between the cv2 calls), so a second
thread does not help; a second process does (`python -m emocast.render.helper`, like the phone
helper in audio/phonemes.py: a fresh interpreter, never a fork, and it never re-runs the caller's
script the way multiprocessing's spawn would). This process hands the helper frame numbers, at most
SLOTS ahead, and renders the others itself, so the helper takes more of them while this process is
busy encoding. The helper is started before the renderer is built (it imports meanwhile) and gets
it with a GO message; until it says READY this process draws the first frames itself, so neither it
nor the encoder waits for the helper's start. The helper writes each frame into a slot of a
memory-mapped ring file and answers with the slot; the slot is reused once that frame has been yielded.

    frames = helper_frames(face, motion)   # an iterator like render_frames, or None (use one process)

If the helper cannot start or dies, this process renders the rest itself: the frames are the
same either way (the same code on the same data).
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from emocast.face.geometry import FaceGeometry
from emocast.motion.sequence import MotionSequence
from emocast.system import helper_environment, usable_cpus

logger = logging.getLogger(__name__)

HELPER_MIN_FRAMES = 750  # 30 s at 25 fps; shorter clips do not repay the helper's start (~1 s of CPU: imports, set-up)
SLOTS = 6  # frames handed to the helper and not yet yielded (6 x 768 KB at 512^2)
MAX_HELD = 4  # frames this process renders ahead while waiting for one of the helper's
ANSWER_TIMEOUT_S = 60.0  # a frame asked of the helper (only once it is READY) has come by then
MESSAGE = struct.Struct("<ii")  # (frame index, slot); index -1: stop (to helper) / error (from it)
READY = -2  # the helper's first message: it has loaded the renderer and takes frames
GO = -3  # the first message to the helper: the renderer is in the job file


def helper_frames(face: FaceGeometry, motion: MotionSequence, exact: bool = False) -> Iterator[np.ndarray] | None:
    """Frames rendered by this process and a helper process, in order; None when not worth it.

    A helper is used with at least two CPU cores and HELPER_MIN_FRAMES frames on POSIX systems
    (select() on pipes), unless the environment sets EMOCAST_RENDER_PROCESSES=1.
    """
    if motion.num_frames < HELPER_MIN_FRAMES or usable_cpus() < 2 or os.name != "posix" or not sys.executable:
        return None
    if os.environ.get("EMOCAST_RENDER_PROCESSES", "").strip() == "1":
        return None
    return _shared_frames(face, motion, exact)


class _Helper:
    """The helper process, its ring of frame slots and the pipe messages."""

    def __init__(self, size: tuple[int, int]) -> None:
        """Start the process for (H, W) frames at once: it imports the renderer's modules (~0.5 s)
        while this process builds the renderer; send() then hands it over."""
        h, w = size
        self._dir = tempfile.TemporaryDirectory(prefix="emocast-render-", dir=_shm_dir())
        ring_path = Path(self._dir.name) / "ring.npy"
        self._job_path = Path(self._dir.name) / "job.pkl"
        self.ring = np.lib.format.open_memmap(ring_path, mode="w+", dtype=np.uint8, shape=(SLOTS, h, w, 3))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emocast.render.helper", str(ring_path), str(self._job_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # failures come back as messages
            env=helper_environment(),
            bufsize=0,  # unbuffered, so select() sees every answer that has come
        )
        self.free = deque(range(SLOTS))
        self.alive = True
        self.ready = False  # frames are asked of the helper only once it has said READY

    def send(self, renderer) -> None:
        """Hand the helper the renderer as built here (~7.5 MB at 512 px, ~10 ms): it skips the ~0.5 s set-up."""
        with open(self._job_path, "wb") as f:
            pickle.dump(renderer, f, protocol=pickle.HIGHEST_PROTOCOL)
        self._send(GO, 0)

    def request(self, index: int) -> None:
        """Ask for frame `index` (a slot must be free)."""
        self._send(index, self.free.popleft())

    def release(self, slot: int) -> None:
        self.free.append(slot)

    def answer(self, timeout: float | None) -> tuple[int, int] | None:
        """(index, slot) of a finished frame, or None when nothing came within `timeout` s.

        A READY message is taken in passing (it sets `ready`); then this returns None.
        """
        if not self.alive:
            return None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        data = _read_exactly(self.proc.stdout, MESSAGE.size)
        if data is None:
            return self.give_up("exited early")
        index, value = MESSAGE.unpack(data)
        if index == READY:
            self.ready = True
            return None
        if index < 0:
            text = _read_exactly(self.proc.stdout, value) or b""
            return self.give_up(text.decode("utf-8", "replace"))
        return index, value

    def close(self) -> None:
        if self.alive:
            self._send(-1, 0)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self._dir.cleanup()

    def _send(self, index: int, slot: int) -> None:
        try:
            self.proc.stdin.write(MESSAGE.pack(index, slot))
            self.proc.stdin.flush()
        except OSError:
            self.give_up("exited early")

    def give_up(self, why: str) -> None:
        if self.alive:
            logger.info("render helper stopped (%s); rendering the rest in this process", why.strip()[-300:])
        self.alive = False
        return None


def _shared_frames(face: FaceGeometry, motion: MotionSequence, exact: bool) -> Iterator[np.ndarray]:
    from emocast.render.frames import FrameRenderer

    helper: _Helper | None = None
    try:
        helper = _Helper(face.image.shape[:2])  # it imports while the renderer is built here
    except OSError as e:  # no room for the ring, no processes, ...
        logger.info("render helper did not start (%s); rendering in one process", e)
    try:
        renderer = FrameRenderer(face, motion, exact=exact)
    except BaseException:
        if helper is not None:
            helper.close()
        raise
    if helper is not None:
        try:
            helper.send(renderer)
        except (OSError, pickle.PicklingError) as e:
            logger.info("render helper did not start (%s); rendering in one process", e)
            helper.close()
            helper = None
    if helper is None:
        for i in range(motion.num_frames):
            yield renderer.render(i)
        return

    try:
        num_frames = motion.num_frames
        handed = 0  # frames below this are with the helper or in `held`
        to_helper: set[int] = set()  # asked of the helper, not yet answered
        held: dict[int, np.ndarray] = {}  # rendered here ahead of their turn
        arrived: dict[int, int] = {}  # the helper's frames not yet yielded: index -> slot
        for i in range(num_frames):
            while i not in held and i not in arrived:
                if helper.alive and not helper.ready:
                    helper.answer(timeout=0)  # nothing is asked of it before READY, so no frame comes
                while helper.ready and helper.alive and helper.free and handed < num_frames:
                    helper.request(handed)  # keep the helper busy, at most SLOTS frames ahead
                    to_helper.add(handed)
                    handed += 1
                if i >= handed:  # nobody has it yet
                    held[i] = renderer.render(i)
                    handed += 1
                elif i not in to_helper or not helper.alive:  # the helper died holding it
                    to_helper.discard(i)
                    held[i] = renderer.render(i)
                elif (answer := helper.answer(timeout=0)) is not None:
                    to_helper.discard(answer[0])
                    arrived[answer[0]] = answer[1]
                elif len(held) < MAX_HELD and handed < num_frames:  # useful work while waiting
                    held[handed] = renderer.render(handed)
                    handed += 1
                elif (answer := helper.answer(timeout=ANSWER_TIMEOUT_S)) is not None:
                    to_helper.discard(answer[0])
                    arrived[answer[0]] = answer[1]
                elif helper.alive:
                    helper.give_up(f"no frame for {ANSWER_TIMEOUT_S:.0f} s")
            if i in held:
                yield held.pop(i)
                continue
            slot = arrived.pop(i)
            frame = helper.ring[slot].copy()
            helper.release(slot)  # reused only once its frame is out: the helper stays <= SLOTS ahead
            yield frame
    finally:
        helper.close()


def _read_exactly(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _shm_dir() -> str | None:
    """/dev/shm where it exists (memory, not disk), else the default temporary folder."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _helper_main(ring_path: str, data_path: str) -> None:
    """Entry of the helper process: render the frames asked for on stdin into the ring."""
    import cv2

    cv2.setNumThreads(1)  # this process is itself the parallelism: OpenCV's pool would compete with it
    import emocast.render.frames  # noqa: F401 - the renderer's modules load while the main process builds it

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        data = _read_exactly(stdin, MESSAGE.size)
        if data is None or MESSAGE.unpack(data)[0] != GO:
            return  # the main process stopped before handing over a renderer
        ring = np.load(ring_path, mmap_mode="r+")
        with open(data_path, "rb") as f:
            renderer = pickle.load(f)  # a FrameRenderer built by the main process
        stdout.write(MESSAGE.pack(READY, 0))
        stdout.flush()
        while (data := _read_exactly(stdin, MESSAGE.size)) is not None:
            index, slot = MESSAGE.unpack(data)
            if index < 0:
                return
            ring[slot] = renderer.render(index)
            stdout.write(MESSAGE.pack(index, slot))
            stdout.flush()
    except BrokenPipeError:
        return  # the main process went away
    except Exception as e:  # noqa: BLE001 - reported to the main process, which renders instead
        text = f"{type(e).__name__}: {e}".encode("utf-8", "replace")
        try:
            stdout.write(MESSAGE.pack(-1, len(text)) + text)
            stdout.flush()
        except OSError:
            pass


if __name__ == "__main__":
    _helper_main(sys.argv[1], sys.argv[2])
