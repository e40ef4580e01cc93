"""genbench: paired video data, a Generative Omnimatte reference and a removal/layering benchmark.

This package holds what every part shares: the data contract (records, scene folders,
manifest, trimask, validation), the progress/logging convention and the command line.
Importing it is cheap: heavy libraries (bpy, torch, cv2) load only inside the commands
that need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
