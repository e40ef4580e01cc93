"""Rigid-body motion of a sampled scene with pybullet: spec + meshes -> per-frame trajectories.

Every object is simulated with every other one present (the floor and walls are static);
under visual counterfactuals a removed object is later left out of the render only, so the
others keep these paths. A physics counterfactual (`without=k`) builds the same scene (same
settling, same entries), takes k out of the world at frame 0 and simulates the rest: what k
pushed or hit then moves as it would have without k.
Objects marked `static` first settle for `SETTLE_SECONDS` on their own (with rolling
friction, so a ball or blob comes to rest instead of rolling on) so they start at rest;
the moving ones then enter with their sampled velocities. Poses that change by less than
`SNAP_METRES` / `SNAP_RADIANS` from one frame to the next are snapped to the previous
frame's exactly, so an object at rest has identical poses (and renders identical pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SUBSTEP_HZ = 240.0
SETTLE_SECONDS = 3.0
RESTING_FRICTION = 0.2  # rolling/spinning friction of `static` objects: a round one comes to rest, not rolls on
SNAP_METRES = 1e-4
SNAP_RADIANS = 1e-4
FLOOR_FRICTION = 0.6
FLOOR_RESTITUTION = 0.5


@dataclass
class Trajectory:
    """Per-frame state of one object (Kubric MOVi names).

    positions (T, 3) metres, quaternions (T, 4) (w, x, y, z), velocities (T, 3) m/s,
    angular_velocities (T, 3) rad/s, bboxes_3d (T, 8, 3) corners of the object's box in world space.
    """

    positions: np.ndarray
    quaternions: np.ndarray
    velocities: np.ndarray
    angular_velocities: np.ndarray
    bboxes_3d: np.ndarray

    def to_dict(self, decimals: int = 5) -> dict[str, Any]:
        return {name: np.round(getattr(self, name), decimals).tolist()
                for name in ("positions", "quaternions", "velocities", "angular_velocities", "bboxes_3d")}


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix of a (w, x, y, z) unit quaternion."""
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _xyzw(q_wxyz: list[float] | np.ndarray) -> list[float]:
    w, x, y, z = (float(v) for v in q_wxyz)
    return [x, y, z, w]


def _box_corners(verts: np.ndarray) -> np.ndarray:
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def wall_boxes(spec: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(centre, half extents, yaw) of each wall: thin boxes behind the objects, facing the camera."""
    walls = spec.get("walls")
    if not walls:
        return []
    base = np.radians(spec["camera"]["azimuth_deg"]) + np.pi
    yaws = [base] if walls["count"] == 1 else [base - np.pi / 4, base + np.pi / 4]
    boxes = []
    for yaw in yaws:
        centre = np.array([np.cos(yaw) * walls["distance"], np.sin(yaw) * walls["distance"], 4.0])
        boxes.append((centre, np.array([0.1, 12.0, 4.0]), float(yaw)))
    return boxes


def _snap(positions: np.ndarray, quaternions: np.ndarray) -> None:
    """In place: a pose that barely moved since the previous frame becomes exactly that pose."""
    for t in range(1, len(positions)):
        moved = np.linalg.norm(positions[t] - positions[t - 1])
        turned = 2 * np.arccos(min(1.0, abs(float(np.dot(quaternions[t], quaternions[t - 1])))))
        if moved < SNAP_METRES and turned < SNAP_RADIANS:
            positions[t] = positions[t - 1]
            quaternions[t] = quaternions[t - 1]


def simulate(spec: dict[str, Any], meshes: dict[int, np.ndarray], *, frames: int, fps: float,
             without: int | None = None) -> dict[int, Trajectory]:
    """Simulate every object of `spec`; `meshes` maps object id -> its (N, 3) vertices (metres, centred).

    without: an object id taken out of the world at frame 0 (after the scene is set up as usual), so
    every other object starts in the state it has in the full simulation.
    Returns object id -> Trajectory with `frames` entries (frame 0 is the initial state), `without` left out.
    """
    from genbench.generators.kubric.quiet import quiet

    with quiet(stderr=True):  # pybullet prints its build time on stderr
        import pybullet as pb  # heavy C extension: only when simulating

        client = pb.connect(pb.DIRECT)
    try:
        return _run(pb, client, spec, meshes, frames, fps, without)
    finally:
        pb.disconnect(physicsClientId=client)


def _run(pb: Any, client: int, spec: dict[str, Any], meshes: dict[int, np.ndarray], frames: int,
         fps: float, without: int | None) -> dict[int, Trajectory]:
    kw = {"physicsClientId": client}
    pb.resetSimulation(**kw)
    pb.setGravity(0, 0, -9.81, **kw)
    pb.setPhysicsEngineParameter(fixedTimeStep=1.0 / SUBSTEP_HZ, numSolverIterations=50,
                                 deterministicOverlappingPairs=1, **kw)
    floor = pb.createMultiBody(0, pb.createCollisionShape(pb.GEOM_PLANE, **kw), **kw)
    pb.changeDynamics(floor, -1, lateralFriction=FLOOR_FRICTION, restitution=FLOOR_RESTITUTION, **kw)
    for centre, half, yaw in wall_boxes(spec):
        shape = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half.tolist(), **kw)
        body = pb.createMultiBody(0, shape, basePosition=centre.tolist(),
                                  baseOrientation=pb.getQuaternionFromEuler([0, 0, yaw]), **kw)
        pb.changeDynamics(body, -1, lateralFriction=FLOOR_FRICTION, restitution=FLOOR_RESTITUTION, **kw)

    bodies: dict[int, int] = {}

    def add(obj: dict[str, Any]) -> int:
        verts = meshes[obj["id"]]
        rot = quat_to_matrix(np.asarray(obj["rotation"], dtype=np.float64))
        lowest = float((verts @ rot.T)[:, 2].min())
        x, y, z = obj["position"]
        shape = pb.createCollisionShape(pb.GEOM_MESH, vertices=verts.tolist(), **kw)
        extent = verts.max(axis=0) - verts.min(axis=0)
        mass = float(obj["density"] * np.prod(extent) * 0.5 * 100.0)  # ~half the box filled, density in 100 kg/m^3
        body = pb.createMultiBody(mass, shape, basePosition=[x, y, z - lowest + 1e-3],
                                  baseOrientation=_xyzw(obj["rotation"]), **kw)
        pb.changeDynamics(body, -1, lateralFriction=obj["friction"], restitution=obj["restitution"],
                          rollingFriction=RESTING_FRICTION if obj["motion"] == "static" else 0.001,
                          spinningFriction=RESTING_FRICTION if obj["motion"] == "static" else 0.001, **kw)
        for _ in range(50):  # lift out of any object it starts inside
            if not any(c[8] < -1e-3 for other in bodies.values()
                       for c in pb.getClosestPoints(body, other, 0.0, **kw)):
                break
            pos, orn = pb.getBasePositionAndOrientation(body, **kw)
            pb.resetBasePositionAndOrientation(body, [pos[0], pos[1], pos[2] + 0.1], orn, **kw)
        return body

    objects = spec["objects"]
    for obj in objects:
        if obj["motion"] == "static":
            bodies[obj["id"]] = add(obj)
    for _ in range(int(SETTLE_SECONDS * SUBSTEP_HZ)):
        pb.stepSimulation(**kw)
    for body in bodies.values():
        pb.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], **kw)
    for obj in objects:
        if obj["motion"] != "static":
            bodies[obj["id"]] = add(obj)
            pb.resetBaseVelocity(bodies[obj["id"]], obj["velocity"], obj["angular_velocity"], **kw)

    if without is not None:
        if without not in bodies:
            raise ValueError(f"object {without} is not in the scene {sorted(bodies)}")
        pb.removeBody(bodies.pop(without), **kw)
    ids = [o["id"] for o in objects if o["id"] != without]
    state = {k: np.zeros((frames, 13)) for k in ids}
    substeps = max(1, round(SUBSTEP_HZ / fps))
    for t in range(frames):
        if t > 0:
            for _ in range(substeps):
                pb.stepSimulation(**kw)
        for k in ids:
            pos, orn = pb.getBasePositionAndOrientation(bodies[k], **kw)
            lin, ang = pb.getBaseVelocity(bodies[k], **kw)
            state[k][t] = [*pos, orn[3], orn[0], orn[1], orn[2], *lin, *ang]

    out = {}
    for k in ids:
        s = state[k]
        positions, quaternions = s[:, :3].copy(), s[:, 3:7].copy()
        quaternions *= np.where(quaternions[:, :1] < 0, -1.0, 1.0)
        _snap(positions, quaternions)
        corners = _box_corners(meshes[k])
        boxes = np.stack([corners @ quat_to_matrix(q).T + p for p, q in zip(positions, quaternions, strict=True)])
        out[k] = Trajectory(positions, quaternions, s[:, 7:10].copy(), s[:, 10:13].copy(), boxes)
    return out
