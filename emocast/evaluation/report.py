"""The batch report: Markdown tables plus matplotlib PNGs (confusion matrix, per-emotion bars,
lip-sync lag curves) and a contact sheet of sampled frames."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def confusion(results: list[dict]) -> tuple[list[str], list[str], np.ndarray]:
    """(row labels = intended emotions, column labels = classifier labels, counts) over videos with a target."""
    rows, cols = [], None
    pairs = []
    for m in results:
        e = m.get("emotion", {})
        if "target" not in e or "label" not in e:
            continue
        cols = cols or list(e["probabilities"])
        pairs.append((e["target"], e["label"]))
        if e["target"] not in rows:
            rows.append(e["target"])
    if not pairs:
        return [], cols or [], np.zeros((0, len(cols or [])), int)
    rows.sort()
    counts = np.zeros((len(rows), len(cols)), int)
    for target, label in pairs:
        counts[rows.index(target), cols.index(label)] += 1
    return rows, cols, counts


def per_emotion(results: list[dict]) -> dict[str, dict]:
    """Per intended emotion: videos, accuracy (None if the classifier lacks it), mean target prob, lag, identity."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for m in results:
        target = m.get("emotion", {}).get("target")
        if target:
            groups[target].append(m)
    table = {}
    for target, ms in sorted(groups.items()):
        correct = [m["emotion"]["correct"] for m in ms if m["emotion"].get("correct") is not None]
        table[target] = {
            "videos": len(ms),
            "accuracy": float(np.mean(correct)) if correct else None,
            "target_probability": _mean(m["emotion"].get("target_probability") for m in ms),
            "best_lag": _mean(m.get("lip_sync", {}).get("best_lag_frames") for m in ms),
            "peak_correlation": _mean(m.get("lip_sync", {}).get("peak_correlation") for m in ms),
            "identity": _mean(m.get("identity", {}).get("distance_mean") for m in ms),
            "predicted": _most_common(m["emotion"].get("label") for m in ms),
        }
    return table


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _most_common(values) -> str | None:
    values = [v for v in values if v]
    return max(set(values), key=values.count) if values else None


def plot_confusion(rows, cols, counts, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(cols), 1.0 + 0.6 * max(len(rows), 1)))
    ax.imshow(counts, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for r in range(len(rows)):
        for c in range(len(cols)):
            if counts[r, c]:
                ax.text(c, r, str(counts[r, c]), ha="center", va="center", color="black")
    ax.set_xlabel("classifier label")
    ax.set_ylabel("intended emotion")
    ax.set_title("Emotion confusion")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_per_emotion(table: dict[str, dict], path: Path) -> Path:
    plt = _plt()
    labels = list(table)
    acc = [table[k]["accuracy"] if table[k]["accuracy"] is not None else 0.0 for k in labels]
    prob = [table[k]["target_probability"] or 0.0 for k in labels]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(1.5 + 0.9 * len(labels), 3.5))
    ax.bar(x - 0.2, acc, 0.4, label="accuracy")
    ax.bar(x + 0.2, prob, 0.4, label="mean prob. of the intended class")
    for i, k in enumerate(labels):
        if table[k]["accuracy"] is None:
            ax.text(i - 0.2, 0.02, "n/a", ha="center", rotation=90, fontsize=8)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Per-emotion accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_lag_curves(results: list[dict], path: Path, extra: dict[str, dict] | None = None) -> Path:
    """Lip-sync correlation vs lag for every video (thin) and any named extra curves (thick)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for m in results:
        curve = m.get("lip_sync", {}).get("lag_curve")
        if curve:
            ax.plot(curve["lags"], curve["correlations"], color="tab:blue", alpha=0.35, lw=1)
    for name, curve in (extra or {}).items():
        ax.plot(curve["lags"], curve["correlations"], lw=2, label=name)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("lag, frames (positive: audio later than the mouth)")
    ax.set_ylabel("correlation")
    ax.set_title("Lip sync: mouth opening vs speech loudness")
    if extra:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def contact_sheet(tiles: list[tuple[np.ndarray, str]], path: Path, columns: int = 8) -> Path:
    """A grid of (image, caption) tiles saved as PNG."""
    from PIL import Image, ImageDraw

    if not tiles:
        tiles = [(np.full((160, 160, 3), 255, np.uint8), "no frames")]
    side = tiles[0][0].shape[0]
    caption = 28
    columns = min(columns, len(tiles))
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * side, rows * (side + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (image, text) in enumerate(tiles):
        x, y = (k % columns) * side, (k // columns) * (side + caption)
        sheet.paste(Image.fromarray(image), (x, y))
        for n, line in enumerate(text.split("\n")[:2]):
            draw.text((x + 3, y + side + 2 + 12 * n), line[: side // 6], fill="black")
    sheet.save(path)
    return path


def write_report(evaluations, report_dir: Path, sanity: list[dict] | None = None, title: str = "EmoCAST evaluation") -> Path:
    """Write report.md and its PNGs for a list of VideoEvaluation; return the report path."""
    report_dir = Path(report_dir)
    results = [e.metrics for e in evaluations]
    rows, cols, counts = confusion(results)
    table = per_emotion(results)
    lines = [f"# {title}", "", f"{len(results)} videos. Judges: fer's FER2013 classifier, dlib 68-point landmarks "
             "and ResNet face descriptor, pocketsphinx phones; none of them is used by the generator.", ""]

    # summary
    lines += ["## Summary", "", "| metric | value |", "|---|---|"]
    scored = [m["emotion"]["correct"] for m in results if m.get("emotion", {}).get("correct") is not None]
    lines.append(f"| emotion accuracy ({len(scored)} videos with a class the classifier knows) | {_fmt_pct(np.mean(scored) if scored else None)} |")
    lags = [m["lip_sync"]["best_lag_frames"] for m in results if "best_lag_frames" in m.get("lip_sync", {})]
    lines.append(f"| mean best lip-sync lag, frames | {_fmt(np.mean(lags) if lags else None, '+.2f')} |")
    lines.append(f"| videos with best lag within +-2 frames | {_fmt_pct(np.mean(np.abs(lags) <= 2) if lags else None)} |")
    peaks = [m["lip_sync"]["peak_correlation"] for m in results if "peak_correlation" in m.get("lip_sync", {})]
    lines.append(f"| mean peak lip-sync correlation | {_fmt(np.mean(peaks) if peaks else None, '.3f')} |")
    ident = [m["identity"]["distance_mean"] for m in results if "distance_mean" in m.get("identity", {})]
    lines.append(f"| mean identity distance (dlib; same person < 0.6) | {_fmt(np.mean(ident) if ident else None, '.3f')} |")
    jit = [m["stability"]["landmark_jitter"] for m in results if m.get("stability", {}).get("landmark_jitter") is not None]
    lines.append(f"| mean rigid-landmark jitter (interocular units) | {_fmt(np.mean(jit) if jit else None, '.4f')} |")
    fids = [m["quality"]["fid"] for m in results]
    fid_values = [f["value"] for f in fids if f.get("value") is not None]
    lines.append(f"| FID | {_fmt(np.mean(fid_values), '.2f') if fid_values else 'unavailable: ' + str(fids[0].get('reason'))} |")
    sync = results[0].get("syncnet", {}) if results else {}
    if sync.get("lse_d") is None:
        lines.append(f"| SyncNet LSE-D / LSE-C | unavailable: {sync.get('reason')} |")
    else:
        lse = [(m["syncnet"]["lse_d"], m["syncnet"]["lse_c"]) for m in results if m.get("syncnet", {}).get("lse_d") is not None]
        lines.append(f"| SyncNet LSE-D / LSE-C | {np.mean([a for a, _ in lse]):.3f} / {np.mean([b for _, b in lse]):.3f} |")
    lines.append("")

    # per-emotion
    if table:
        plot_per_emotion(table, report_dir / "per_emotion.png")
        plot_confusion(rows, cols, counts, report_dir / "confusion.png")
        lines += ["## Per emotion", "", "| intended | videos | accuracy | p(intended) | most predicted | best lag | peak r | identity |",
                  "|---|---|---|---|---|---|---|---|"]
        for k, t in table.items():
            lines.append(
                f"| {k} | {t['videos']} | {_fmt_pct(t['accuracy']) if t['accuracy'] is not None else 'n/a (no class)'} | "
                f"{_fmt(t['target_probability'], '.2f')} | {t['predicted']} | {_fmt(t['best_lag'], '+.1f')} | "
                f"{_fmt(t['peak_correlation'], '.2f')} | {_fmt(t['identity'], '.3f')} |"
            )
        lines += ["", "![per-emotion accuracy](per_emotion.png)", "", "![confusion matrix](confusion.png)", ""]

    # lag curves
    extra = {row["name"]: row["lag_curve"] for row in (sanity or []) if row.get("lag_curve")}
    plot_lag_curves(results, report_dir / "lag_curves.png", extra)
    lines += ["## Lip sync", "", "Correlation of mouth opening (dlib inner lips) with the speech loudness "
              "envelope at each audio-video lag; the peak is the offset.", "", "![lag curves](lag_curves.png)", ""]

    # per video
    lines += ["## Videos", "", "| video | emotion (target) | best lag | peak r | pause closure | identity | jitter |", "|---|---|---|---|---|---|---|"]
    for m in results:
        e, s, i = m.get("emotion", {}), m.get("lip_sync", {}), m.get("identity", {})
        target = f" ({e['target']})" if e.get("target") else ""
        lines.append(
            f"| {Path(m['video']['path']).name} | {e.get('label', 'n/a')}{target} | {_fmt(s.get('best_lag_frames'), '+d')} | "
            f"{_fmt(s.get('peak_correlation'), '.2f')} | {_fmt_pct(s.get('silence_closure'))} | {_fmt(i.get('distance_mean'), '.3f')} | "
            f"{_fmt(m.get('stability', {}).get('landmark_jitter'), '.4f')} |"
        )
    lines.append("")

    # contact sheet
    tiles = []
    for ev in evaluations:
        e = ev.metrics.get("emotion", {})
        name = Path(ev.metrics["video"]["path"]).stem
        for thumb in ev.thumbnails[:1] if len(evaluations) > 8 else ev.thumbnails:
            caption = f"{name}\n{e.get('label', '?')}" + (f" / {e['target']}" if e.get("target") else "")
            tiles.append((thumb, caption))
    contact_sheet(tiles, report_dir / "contact_sheet.png")
    lines += ["## Contact sheet", "", "Sampled frames; caption: video, classifier label / intended emotion.", "", "![contact sheet](contact_sheet.png)", ""]

    if sanity:
        lines += ["## Metric sanity checks on real data", "", "| check | value | expectation | passed |", "|---|---|---|---|"]
        for row in sanity:
            lines.append(f"| {row['name']} | {row['value']} | {row['expect']} | {'yes' if row['passed'] else 'NO'} |")
        lines.append("")
    path = report_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if spec.endswith("d"):
        value = int(round(value))
    return format(value, spec)


def _fmt_pct(value) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"
