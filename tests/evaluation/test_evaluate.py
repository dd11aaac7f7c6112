"""evaluate(), the CLI's --json output and the batch report, on a 2 s cut of the real fixture."""

from __future__ import annotations

import csv
import json

import pytest

from emocast.evaluation import sanity

VIDEO = sanity.find_real_video()
pytestmark = pytest.mark.skipif(VIDEO is None, reason="real talking-head fixture not found")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    sanity._ffmpeg("-i", str(VIDEO), "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


def test_cli_evaluate_json(clip, capsys):
    from emocast.cli import main

    assert main(["evaluate", str(clip), "--reference", str(sanity.NEUTRAL), "--emotion", "contempt", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["video"]["frames"] == 50 and metrics["faces_found"] == 1.0
    assert set(metrics["emotion"]["probabilities"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert metrics["emotion"]["correct"] is None and "contempt" in metrics["emotion"]["reason"]
    assert -8 <= metrics["lip_sync"]["best_lag_frames"] <= 8
    assert len(metrics["lip_sync"]["lag_curve"]["correlations"]) == 17
    assert metrics["identity"]["distance_mean"] < 0.6 and metrics["identity"]["same_person"]
    assert metrics["stability"]["landmark_jitter"] > 0
    for unavailable in (metrics["quality"]["fid"], metrics["speed"]):
        assert unavailable["value"] is None and unavailable["reason"]


def test_cli_evaluate_errors(tmp_path, capsys):
    from emocast.cli import main

    assert main(["evaluate", str(tmp_path / "missing.mp4")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", "--batch", str(tmp_path / "m.csv")]) == 2


def test_format_metrics_is_readable(clip):
    from emocast.evaluation.evaluate import evaluate, format_metrics

    text = format_metrics(evaluate(clip, emotion="happy", bilabials=False))
    assert "emotion:" in text and "lip sync:" in text and "FID:        unavailable" in text


def test_batch_report(clip, tmp_path):
    from emocast.evaluation.evaluate import evaluate_batch

    manifest = tmp_path / "manifest.csv"
    clip2 = tmp_path / "second.mp4"
    clip2.write_bytes(clip.read_bytes())
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video", "reference", "emotion"])
        w.writerow([str(clip), str(sanity.NEUTRAL), "neutral"])
        w.writerow(["second.mp4", "", "happy"])  # relative to the manifest's folder
    report = evaluate_batch(manifest, tmp_path / "report", sanity=False)
    text = report.read_text()
    assert "| neutral |" in text and "| happy |" in text
    for png in ("confusion.png", "per_emotion.png", "lag_curves.png", "contact_sheet.png"):
        assert (report.parent / png).stat().st_size > 1000, png
        assert png in text
    assert json.loads((report.parent / "metrics.json").read_text())["videos"][1]["identity"]["value"] is None
