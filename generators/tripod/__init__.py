"""Pairs from static-camera footage (`genbench tripod`).

`align` checks that the camera is static and stabilises small shake; `plate` estimates the
clean plate and per-frame exposure; `segment` finds moving objects and their shadows and
tracks them; `windows` cuts the footage into scenes behind quality gates; `make` ties it
together and builds `Scene`s for the runner.
"""
