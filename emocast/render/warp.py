"""Piecewise-affine warp of the whole crop by the mesh motion, fast enough for real time on one core.

The 478 landmarks are joined by two rings of extra points around the face (hair, ears, neck)
and anchors along the picture border, and triangulated once (Delaunay on a copy of the source
mesh with mouth and eyes held open, so the triangulation has edges along the lip and lid
contours). Precomputed once per crop: for a coarse grid (every GRID_STEP pixels) the containing
source triangle and barycentric weights, as one sparse matrix. Per frame (`WarpField.warp`):

1. vertex displacements (target - source) -> coarse forward field U: one sparse product;
2. backward map on the coarse grid by fixed-point iteration X <- Y - U(X) (U sampled by remap),
   then Newton steps with each triangle's exact inverse affine where it has not converged
   (lips and lids closing); a walk that stalls (on the sliver triangles of lips closed in the
   photo) is finished by finding, among its triangle's near neighbours, the one whose target holds it;
3. cv2.resize of the coarse displacement to full size and one cv2.remap of the source picture,
   over the part of the picture that moves by more than 1/64 px (the rest is copied: identical).

About 1 ms for steps 1-2 and 2-2.5 ms for step 3 at 512 px on one core (benchmarks/bench_render.py).
`backward_map(targets, exact=True)` keeps the plain reference implementation for tests.

The extra points follow the head with a falloff and the border anchors never move, so nothing
tears and the picture edge stays put.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emocast.motion import topology as T

GRID_STEP = 4  # pixels between coarse map samples (at 512 px: a 128 x 128 grid)
FIXED_POINT_ITERATIONS = 3
NEWTON_ITERATIONS = 3
NEWTON_TOLERANCE_PX = 0.25  # fixed-point residual above which a sample gets Newton steps
STALLED_PX = 0.25  # a Newton walk whose last step is longer than this (pixels) has not converged
FOUND = -0.05  # smallest barycentric coordinate of an output position "in" a target triangle
LOCATE_RINGS = 2  # a stalled sample is looked up among the triangles this many vertex-rings around it
RING_SCALES = (1.3, 1.75)  # extra rings around the face, relative to the face oval about its centre
RING_FOLLOW = (0.6, 0.2)  # how much each ring follows the face oval's motion
BORDER_ANCHORS_PER_SIDE = 8
MOVING_PX = 1.0 / 64.0  # remap rounds positions to 1/32 px: smaller displacements leave pixels as they are
IRIS_MARGIN = 0.1  # iris points stay at least this share of the eye opening's height away from the lids
IRIS_SQUASH = 4.0  # steepness of the logistic curve that keeps them there
PART_OF_PICTURE = 0.8  # above this fraction of the picture moving, all of it is resampled (same pixels)
_EYES = tuple((list(eye.upper), list(eye.lower), list(eye.iris)) for eye in T.EYES)


@dataclass
class WarpField:
    """Per-crop precomputation of the warp."""

    size: tuple[int, int]  # (H, W) of the picture
    source_points: np.ndarray  # (V, 2) float32 all vertices in source pixels (478 mesh + extra)
    triangles: np.ndarray  # (T, 3) int32 vertex indices
    grid_index: np.ndarray  # (G, 3) int32 vertices of each coarse sample's source triangle
    grid_weight: np.ndarray  # (G, 3) float32 barycentric weights
    grid_shape: tuple[int, int]  # (gh, gw) coarse grid
    grid_xy: np.ndarray  # (gh, gw, 2) float32 coarse sample positions in pixels
    ring_index: np.ndarray  # (E, 3) int32 face-oval landmarks each extra point follows
    ring_weight: np.ndarray  # (E, 3) float32 follow weights (incl. the ring's falloff)
    num_moving: int  # vertices that move: 478 landmarks + ring points (anchors follow)
    triangle_map: np.ndarray  # (H, W) int32 source triangle under each pixel (for the Newton walk)
    max_step: float  # Newton step limit in pixels (keeps steps out of collapsed triangles finite)
    border_fade: np.ndarray  # (gh, gw, 1) float32: 0 on the outermost samples, 1 inside
    identity: np.ndarray  # (H, W, 2) float32 pixel coordinates

    @classmethod
    def build(cls, image_size: tuple[int, int], landmarks: np.ndarray, iod: float) -> "WarpField":
        """Precompute for a (H, W) picture and its (478, 2+) source landmarks (pixels)."""
        h, w = image_size
        mesh = irises_inside(np.asarray(landmarks, np.float64)[:, :2])
        rings, ring_index, ring_weight = _rings(mesh, (h, w))
        anchors = _border_anchors(h, w)
        points = np.concatenate([mesh, rings, anchors]).astype(np.float64)
        triangles = _triangulate(points, mesh, iod)
        step = GRID_STEP
        gh, gw = int(np.ceil(h / step)), int(np.ceil(w / step))
        gx = (np.arange(gw) + 0.5) * (w / gw) - 0.5  # cv2.resize-aligned sample centres
        gy = (np.arange(gh) + 0.5) * (h / gh) - 0.5
        grid_xy = np.stack(np.meshgrid(gx, gy), axis=-1).astype(np.float32)
        index, weight = _locate(grid_xy.reshape(-1, 2), points, triangles, (gh, gw), (h, w))
        triangle_map = _rasterise(points, triangles, (h, w), (h, w))
        return cls(
            size=(h, w), source_points=points.astype(np.float32), triangles=triangles.astype(np.int32),
            grid_index=index, grid_weight=weight, grid_shape=(gh, gw), grid_xy=grid_xy,
            ring_index=ring_index, ring_weight=ring_weight, num_moving=len(mesh) + len(rings),
            triangle_map=triangle_map, max_step=0.15 * iod, border_fade=_border_fade(grid_xy, (h, w)),
            identity=np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), -1),
        )

    def vertex_targets(self, mesh: np.ndarray) -> np.ndarray:
        """(V, 2) target positions of all vertices for a (478, 2+) target mesh."""
        mesh = irises_inside(np.asarray(mesh, np.float32)[:, :2])
        src = self.source_points
        moved = mesh - src[: len(mesh)]
        ring = src[len(mesh): self.num_moving] + (moved[self.ring_index] * self.ring_weight[..., None]).sum(1)
        return np.concatenate([mesh, ring, src[self.num_moving:]])

    def warp(self, image: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """`image` warped so the vertices move to `targets`; only the part that moves is resampled.

        Args:
            image: (H, W, C) uint8 source picture (not changed).
            targets: (V, 2) vertex targets in pixels (see vertex_targets).

        Returns:
            (H, W, C) uint8 new array, the same as warp_image(image, backward_map(targets)).
        """
        return self.resample(image, self.coarse_displacement(targets))

    def resample(self, image: np.ndarray, disp: np.ndarray) -> np.ndarray:
        """`image` sampled at the output positions plus the (gh, gw, 2) coarse displacement, upsampled.

        Pixels farther than one grid step from any sample that moves are copied, not resampled.
        """
        moving = np.abs(disp) > MOVING_PX
        moving = moving[..., 0] | moving[..., 1]
        rows, cols = np.flatnonzero(moving.any(1)), np.flatnonzero(moving.any(0))
        if len(rows) == 0:
            return image.copy()
        # a coarse sample reaches the pixels up to one grid step away (bilinear upsampling)
        (h, w), (gh, gw) = self.size, self.grid_shape
        y0, y1 = max(int((rows[0] - 1) * h / gh), 0), min(int(np.ceil((rows[-1] + 2) * h / gh)), h)
        x0, x1 = max(int((cols[0] - 1) * w / gw), 0), min(int(np.ceil((cols[-1] + 2) * w / gw)), w)
        backward = cv2.resize(disp, (w, h), interpolation=cv2.INTER_LINEAR)
        if (y1 - y0) * (x1 - x0) > PART_OF_PICTURE * h * w:  # copying the still part would cost more than it saves
            cv2.add(backward, self.identity, dst=backward)
            return cv2.remap(image, backward, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        backward = backward[y0:y1, x0:x1]
        backward += self.identity[y0:y1, x0:x1]
        out = image.copy()
        out[y0:y1, x0:x1] = cv2.remap(image, backward, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out

    def backward_map(self, targets: np.ndarray, exact: bool = False) -> np.ndarray:
        """(H, W, 2) float32 source position of every output pixel, for (V, 2) vertex targets.

        `exact=True` runs the plain reference implementation (slow; for tests and benchmarks).
        """
        if exact:
            return self._reference_backward_map(targets)
        h, w = self.size
        full = cv2.resize(self.coarse_displacement(targets), (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.add(full, self.identity, dst=full)

    def coarse_displacement(self, targets: np.ndarray) -> np.ndarray:
        """(gh, gw, 2) float32 backward displacement (source - output position, pixels) on the coarse grid."""
        # 1. forward displacement field U on the coarse grid, in grid units: one sparse product
        disp = np.asarray(targets, np.float32)[:, :2] - self.source_points
        field = (self._grid_matrix @ disp.ravel()).reshape(*self.grid_shape, 2)
        # 2. fixed point q <- q0 - U(q), U sampled by remap; the first sample is at the grid
        # points themselves, where U is the field
        q0 = self._grid_coords
        q = q0 - field
        for _ in range(FIXED_POINT_ITERATIONS - 1):
            q = np.subtract(q0, cv2.remap(field, q, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), out=q)
        residual = np.abs(q + cv2.remap(field, q, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) - q0)
        # 3. Newton steps (in pixels) where the fixed point has not converged (lips/lids closing)
        over = residual > self._grid_tolerance
        bad = np.flatnonzero(over[..., 0] | over[..., 1])
        if len(bad):
            flat = q.reshape(-1, 2)  # a view: writing it writes q
            x = self._newton(targets, (flat[bad] - self._grid_offset) / self._to_grid, self.grid_xy.reshape(-1, 2)[bad])
            flat[bad] = x * self._to_grid + self._grid_offset
        q -= q0
        q *= self._fade_to_pixels  # back to pixels; the picture's edge never moves
        return q

    def _reference_backward_map(self, targets: np.ndarray) -> np.ndarray:
        """The straightforward version of backward_map (gathers, four remaps, Newton on all triangles)."""
        gh, gw = self.grid_shape
        disp = (targets - self.source_points).astype(np.float32)
        i, wt = self.grid_index, self.grid_weight
        field = (wt[:, :1] * disp[i[:, 0]] + wt[:, 1:2] * disp[i[:, 1]] + wt[:, 2:] * disp[i[:, 2]]).reshape(gh, gw, 2)
        sx, sy = gw / self.size[1], gh / self.size[0]
        y = self.grid_xy
        x = y.copy()
        for k in range(FIXED_POINT_ITERATIONS + 1):
            # sample U at x (in coarse-grid coordinates)
            mx = (x[..., 0] + 0.5) * sx - 0.5
            my = (x[..., 1] + 0.5) * sy - 0.5
            u = cv2.remap(field, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            if k == FIXED_POINT_ITERATIONS:
                break
            x = y - u
        # the fixed point fails where the motion compresses (lips closing over teeth, lids over
        # eyes); there a few Newton steps with each triangle's exact inverse affine finish the job
        residual = np.abs(x + u - y).max(-1)
        bad = residual > NEWTON_TOLERANCE_PX
        if bad.any():
            x[bad] = self._newton(targets, x[bad], y[bad])
        h, w = self.size
        disp = (x - y) * self.border_fade  # the picture's edge never moves
        # resize the displacement, not the positions: positions would be off by half a sample at the edge
        return cv2.resize(disp, (w, h), interpolation=cv2.INTER_LINEAR) + self.identity

    def _inverse_affines(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per triangle, the affine taking target positions back to source positions, and the
        triangle's barycentric coordinates as affine functions of the target position.

        Returns:
            (6, T) float32 rows (a, b, c, d, e, f): source x = a x + b y + c, source y = d x + e y + f;
            (6, T) float32 rows: l1 = r0 x + r1 y + r2, l2 = r3 x + r4 y + r5 (collapsed targets: never inside).
        """
        dst = np.asarray(targets, np.float64)[:, :2][self.triangles]  # (T, 3, 2)
        ox, oy = dst[:, 0, 0], dst[:, 0, 1]
        e1x, e1y = dst[:, 1, 0] - ox, dst[:, 1, 1] - oy
        e2x, e2y = dst[:, 2, 0] - ox, dst[:, 2, 1] - oy
        det = e1x * e2y - e2x * e1y
        floor = self._det_floor  # collapsed target triangles get a large, finite inverse
        collapsed = np.abs(det) < floor
        det = np.where(collapsed, np.where(det < 0, -floor, floor), det)
        i00, i01, i10, i11 = e2y / det, -e2x / det, -e1y / det, e1x / det  # inverse of [e1 e2]
        s00, s01, s10, s11, sx, sy = self._source_affine  # source edges (columns) and origin
        out = np.empty((6, len(det)))
        out[0] = s00 * i00 + s01 * i10
        out[1] = s00 * i01 + s01 * i11
        out[3] = s10 * i00 + s11 * i10
        out[4] = s10 * i01 + s11 * i11
        out[2] = sx - out[0] * ox - out[1] * oy
        out[5] = sy - out[3] * ox - out[4] * oy
        bary = np.stack([i00, i01, -(i00 * ox + i01 * oy), i10, i11, -(i10 * ox + i11 * oy)])
        bary[2, collapsed] = -1e6
        return out.astype(np.float32), bary.astype(np.float32)

    def _newton(self, targets: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Solve forward(x) = y per sample by walking with per-triangle inverse affines.

        Args:
            targets: (V, 2) vertex targets (pixels).
            x: (n, 2) starting source positions (pixels).
            y: (n, 2) output positions (pixels).

        Returns:
            (n, 2) float32 source positions.
        """
        a, bary = self._inverse_affines(targets)
        h, w = self.size
        tri = self.triangle_map.ravel()
        px, py = x[:, 0].astype(np.float32), x[:, 1].astype(np.float32)
        yx, yy = y[:, 0], y[:, 1]
        for _ in range(NEWTON_ITERATIONS):
            t = tri[np.rint(np.clip(py, 0, h - 1)).astype(np.int32) * w + np.rint(np.clip(px, 0, w - 1)).astype(np.int32)]
            dx = a[0, t] * yx + a[1, t] * yy + a[2, t] - px
            dy = a[3, t] * yx + a[4, t] * yy + a[5, t] - py
            scale = np.minimum(1.0, self.max_step / np.maximum(np.hypot(dx, dy), 1e-6))
            px += dx * scale
            py += dy * scale
        # a walk still taking long steps has stalled (see _locate_stalled); one that ended outside its
        # triangle's target is left alone: where the target folds, the walk's side of the fold is right
        stalled = np.flatnonzero(np.abs(dx) + np.abs(dy) > STALLED_PX)
        if len(stalled):
            self._locate_stalled(a, bary, t[stalled], stalled, px, py, yx, yy)
        return np.stack([px, py], 1)

    def _locate_stalled(self, a: np.ndarray, bary: np.ndarray, last: np.ndarray, stalled: np.ndarray,
                        px: np.ndarray, py: np.ndarray, yx: np.ndarray, yy: np.ndarray) -> None:
        """Finish the walks that stalled (in place): the triangle whose target holds the output position.

        Lips closed in the photo make the mouth's source triangles slivers; the walk then goes back
        and forth across the seam (each inverse sends the position onto the sliver, whose pixels
        belong to a neighbour) and lower-lip pixels sampled the seam: dark rings and specks on the
        lip. The right triangle is a near neighbour of the one the walk stopped in: among those,
        the one whose target triangle contains the output position (largest smallest barycentric
        coordinate) gives the source position directly.
        """
        cand = self._neighbours[last]  # (n, K) candidate triangles, padded with the last one
        inside = _inside(bary, cand, yx[stalled, None], yy[stalled, None])
        pick = inside.argmax(1)
        rows = np.arange(len(stalled))
        found = inside[rows, pick] > FOUND  # in a triangle or just off its edge
        i, best = stalled[found], cand[rows[found], pick[found]]
        px[i] = a[0, best] * yx[i] + a[1, best] * yy[i] + a[2, best]
        py[i] = a[3, best] * yx[i] + a[4, best] * yy[i] + a[5, best]

    def __post_init__(self) -> None:
        """Derived per-crop constants for the fast path."""
        from scipy.sparse import csr_matrix, diags, identity, kron

        gh, gw = self.grid_shape
        h, w = self.size
        self._to_grid = np.array([gw / w, gh / h], np.float32)  # pixels -> coarse-grid units
        self._grid_offset = 0.5 * self._to_grid - 0.5  # grid = pixels * _to_grid + _grid_offset
        # barycentric weights as a (2G, 2V) matrix acting on interleaved (x, y) displacements,
        # scaled to grid units, so one sparse product gives the (gh, gw, 2) field
        rows = np.repeat(np.arange(gh * gw), 3)
        bary = csr_matrix((self.grid_weight.ravel(), (rows, self.grid_index.ravel())),
                          shape=(gh * gw, len(self.source_points)), dtype=np.float32)
        self._grid_matrix = (diags(np.tile(self._to_grid, gh * gw)) @ kron(bary, identity(2), format="csr")).astype(np.float32).tocsr()
        self._grid_coords = np.stack(np.meshgrid(np.arange(gw, dtype=np.float32), np.arange(gh, dtype=np.float32)), -1)
        ones = np.ones((gh, gw, 2), np.float32)  # full-size constants: numpy is slow at broadcasting over 2
        self._grid_tolerance = ones * (NEWTON_TOLERANCE_PX * self._to_grid)
        self._fade_to_pixels = ones * self.border_fade / self._to_grid
        src = self.source_points.astype(np.float64)[self.triangles]  # (T, 3, 2)
        e1, e2 = src[:, 1] - src[:, 0], src[:, 2] - src[:, 0]
        self._source_affine = (e1[:, 0], e2[:, 0], e1[:, 1], e2[:, 1], src[:, 0, 0], src[:, 0, 1])
        self._det_floor = 0.02 * np.abs(e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]) + 1e-3
        self._neighbours = _neighbour_table(self.triangles, LOCATE_RINGS)


def warp_image(image: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Sample `image` at the (H, W, 2) backward map (bilinear, edges replicated)."""
    return cv2.remap(image, backward[..., 0], backward[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _rings(mesh: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extra points on scaled copies of the face oval, and which oval points each one follows."""
    h, w = size
    oval_ids = np.array(T.FACE_OVAL)
    oval = mesh[oval_ids]
    centre = oval.mean(0)
    points, index, weight = [], [], []
    for scale, follow in zip(RING_SCALES, RING_FOLLOW):
        ring = centre + (oval - centre) * scale
        inside = (ring[:, 0] > 2) & (ring[:, 0] < w - 3) & (ring[:, 1] > 2) & (ring[:, 1] < h - 3)
        for k in np.nonzero(inside)[0]:
            points.append(ring[k])
            nb = [(k - 1) % len(oval_ids), k, (k + 1) % len(oval_ids)]
            index.append(oval_ids[nb])
            # fade the motion towards the picture border so the anchors never pull against it
            edge = min(ring[k, 0], w - 1 - ring[k, 0], ring[k, 1], h - 1 - ring[k, 1])
            fade = float(np.clip(edge / (0.08 * max(h, w)), 0.0, 1.0))
            weight.append(np.array([0.25, 0.5, 0.25]) * follow * fade)
    if not points:
        return np.zeros((0, 2)), np.zeros((0, 3), np.int32), np.zeros((0, 3), np.float32)
    return np.array(points), np.array(index, np.int32), np.array(weight, np.float32)


def _inside(bary: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smallest barycentric coordinate of output positions (x, y) in target triangles `t` (< 0: outside)."""
    l1 = bary[0, t] * x + bary[1, t] * y + bary[2, t]
    l2 = bary[3, t] * x + bary[4, t] * y + bary[5, t]
    return np.minimum(np.minimum(l1, l2), 1.0 - l1 - l2)


def _neighbour_table(triangles: np.ndarray, rings: int) -> np.ndarray:
    """(T, K) int32: each triangle's neighbours up to `rings` shared-vertex steps away (itself included),
    rows padded with the triangle itself."""
    from scipy.sparse import csr_matrix

    n = len(triangles)
    incidence = csr_matrix((np.ones(3 * n, np.float32), (np.repeat(np.arange(n), 3), triangles.ravel())))
    step = (incidence @ incidence.T).astype(bool).astype(np.float32)  # triangles sharing a vertex
    near = step
    for _ in range(rings - 1):
        near = (near @ step).astype(bool).astype(np.float32)
    near = near.tocsr()
    counts = np.diff(near.indptr)
    table = np.repeat(np.arange(n, dtype=np.int32)[:, None], counts.max(), 1)
    cols = np.arange(counts.max())[None, :] < counts[:, None]
    table[cols] = near.indices
    return table


def _border_anchors(h: int, w: int) -> np.ndarray:
    n = BORDER_ANCHORS_PER_SIDE
    xs = np.linspace(0, w - 1, n + 1)
    ys = np.linspace(0, h - 1, n + 1)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, h - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], w - 1), ys[1:-1]], 1)
    return np.concatenate([top, bottom, left, right])


def irises_inside(points: np.ndarray) -> np.ndarray:
    """A copy of (478+, 2) pixel points with each iris point moved inside its eye's opening.

    FaceMesh puts the whole iris circle in, also the part under the lids; those points then sit in
    the lid's skin, and a closing lid runs over them and folds their triangles (the iris and its
    catchlights showed through closed lids). Each iris point's height in the opening, t (0 at the
    upper lid, 1 at the lower, column by column), is squashed into (IRIS_MARGIN, 1 - IRIS_MARGIN)
    by a logistic curve: strictly increasing, so points above one another keep their order however
    far the lids close. Done alike to the source and every target, so an eye that does not move is
    unchanged.
    """
    points = np.array(points, dtype=np.result_type(points, np.float32), copy=True)
    for upper, lower, iris in _EYES:
        xs = points[iris, 0]
        top = T.contour_y(points[upper], xs)
        gap = np.maximum(T.contour_y(points[lower], xs) - top, 1e-3)
        t = (points[iris, 1] - top) / gap
        # a closed eye (gap ~0) puts t far out: the curve is flat there, so clip before exp overflows
        z = np.clip(-IRIS_SQUASH * (t - 0.5), -60.0, 60.0)
        squashed = IRIS_MARGIN + (1.0 - 2.0 * IRIS_MARGIN) / (1.0 + np.exp(z))
        points[iris, 1] = top + squashed * gap
    return points


def _triangulate(points: np.ndarray, mesh: np.ndarray, iod: float) -> np.ndarray:
    """Delaunay triangles over the points, with mouth and eyes held open so contours become edges."""
    from scipy.spatial import Delaunay

    opened = points.copy()
    up, lo = list(T.LIP_INNER_UPPER[1:-1]), list(T.LIP_INNER_LOWER[1:-1])
    opened[up, 1] -= 0.02 * iod
    opened[lo, 1] += 0.08 * iod
    for eye in T.EYES:
        opened[list(eye.upper[1:-1]), 1] -= 0.02 * iod
        opened[list(eye.lower[1:-1]), 1] += 0.02 * iod
    opened += np.random.default_rng(0).normal(0.0, 1e-3, opened.shape)  # break exact ties
    return Delaunay(opened).simplices


def _border_fade(grid_xy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    edge = np.minimum.reduce([grid_xy[..., 0], grid_xy[..., 1], w - 1 - grid_xy[..., 0], h - 1 - grid_xy[..., 1]])
    return np.clip((edge - 2.0) / (2.0 * GRID_STEP), 0.0, 1.0)[..., None].astype(np.float32)


def _rasterise(points: np.ndarray, triangles: np.ndarray, grid_shape: tuple[int, int],
               size: tuple[int, int]) -> np.ndarray:
    """(gh, gw) int32 id of the source triangle under each grid sample (-1 outside all)."""
    gh, gw = grid_shape
    h, w = size
    scale = np.array([gw / w, gh / h])
    ids = np.full((gh, gw), -1, np.int32)
    tri_pts = points[triangles]  # (T, 3, 2)
    area = np.abs(np.cross(tri_pts[:, 1] - tri_pts[:, 0], tri_pts[:, 2] - tri_pts[:, 0]))
    shift = 4
    for t in np.argsort(-area):  # slivers drawn last, over their big neighbours
        poly = np.round(((tri_pts[t] + 0.5) * scale - 0.5) * (1 << shift)).astype(np.int32)
        cv2.fillConvexPoly(ids, poly, int(t), lineType=cv2.LINE_8, shift=shift)
    if (ids < 0).any():  # pixels missed on shared edges: take a neighbour's triangle
        missing = ids < 0
        grown = cv2.dilate(ids.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        ids[missing] = grown[missing]
    return ids


def _locate(samples: np.ndarray, points: np.ndarray, triangles: np.ndarray, grid_shape: tuple[int, int],
            size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Source triangle and barycentric weights of each sample (rasterised triangle ids)."""
    tri_pts = points[triangles]  # (T, 3, 2)
    flat = _rasterise(points, triangles, grid_shape, size).reshape(-1)
    missing = flat < 0
    if missing.any():  # samples outside every triangle (should not happen with border anchors)
        from scipy.spatial import cKDTree

        centroids = tri_pts.mean(1)
        flat[missing] = cKDTree(centroids).query(samples[missing])[1]
    tri = triangles[flat]
    a, b, c = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    v0, v1, v2 = b - a, c - a, samples - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    den = np.where(np.abs(den) < 1e-9, 1e-9, den)
    wb = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
    wc = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
    weight = np.stack([1 - wb - wc, wb, wc], 1)
    weight = np.clip(weight, -0.05, 1.05)
    weight /= weight.sum(1, keepdims=True)
    return tri.astype(np.int32), weight.astype(np.float32)
