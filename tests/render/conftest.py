from tests.motion.conftest import astronaut, hdtf  # noqa: F401  (shared session fixtures)
