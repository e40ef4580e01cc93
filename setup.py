"""Maps the top-level folders onto one import namespace, `genbench.*`.

pyproject.toml holds the metadata; this file only exists because the mapping
(`generators/` -> `genbench.generators`, ...) must include every subpackage,
which setuptools cannot discover from a static table.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "genbench": "genbench",
    "genbench.generators": "generators",
    "genbench.benchmark": "benchmark",
    "genbench.baselines": "baselines",
    "genbench.models": "models",
    "genbench.leaderboard": "leaderboard",
}

packages: list[str] = []
for package, folder in FOLDERS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

# Data that ships inside the package: the frozen mini benchmark split with its checksums, and the
# reference Casper checkpoint and the start refiner trained for it, so `genbench eval --method casper`
# works on a fresh clone.
PACKAGE_DATA = {
    "genbench": ["py.typed"],
    "genbench.benchmark": ["mini-v*/**/*", "*.sha256"],
    "genbench.models": ["casper/weights/*", "casper/weights-tiny/*", "omnimatte/refiner-casper/*"],
    "genbench.leaderboard": ["reported/*.json"],
}

setup(packages=packages, package_dir=FOLDERS, package_data=PACKAGE_DATA)
