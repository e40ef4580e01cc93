"""Kubric-style paired renders on bpy (Cycles) and pybullet: `genbench render`.

The pipeline, one module per step (Kubric's shape: describe, simulate, render, write):

- `settings`: the run's settings and presets (tiny, default, hq, paper);
- `spec`: sample a scene description from an explicit rng (pure numpy, no bpy);
- `geometry`: built-in meshes (numpy), the same vertices for physics and rendering;
- `simulate`: pybullet trajectories with every object present;
- `blender`: build the scene in bpy and render any subset of its objects to numpy;
- `plan` and `region`: which renders a scene needs (identical ones once) and the crop
  windows that bound each object's effects;
- `exact`: exact pairs and GT layers from the raw renders (DESIGN.md's procedure);
- `make`: one scene end to end (`SceneMaker` is the picklable per-scene task);
- `distributed`: the same task on Ray; `preview`: preview.gif per scene.

Nothing here imports bpy or pybullet at import time.
"""
