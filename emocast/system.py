"""What the machine offers this process."""

from __future__ import annotations

import os


def usable_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def helper_environment() -> dict[str, str]:
    """os.environ for a helper process (`python -m emocast....`) that imports this same emocast,
    wherever it was imported from (a checkout, an install, a test's sys.path)."""
    import emocast

    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(emocast.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # a helper is one of several busy processes: BLAS threads would only spin (sched_yield) on the
    # cores the others use
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env
