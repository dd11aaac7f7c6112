from tests.motion.conftest import astronaut, closed_lips, hdtf  # noqa: F401  (shared session fixtures)
