"""Object-paste pairs: an object track from one clip pasted onto another (`genbench paste`).

`sources` finds object tracks (DAVIS / YouTube-VOS, videos + mask videos, genbench datasets)
and target clips; `sample` draws a paste description from an explicit `rng`; `composite`
realises it as pixels; `make` turns one index into a `Scene` for the runner.
"""
