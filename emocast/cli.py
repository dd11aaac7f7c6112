"""Command line: ``python -m emocast <command> ...`` (also the ``emocast`` console script).

Commands: generate, analyze-prompt, presets, evaluate, check-weights. Each has an ``_add_<name>``
that declares its arguments and a ``_run_<name>`` that does the work with lazy imports, so
``emocast --help`` starts fast and the mesh path never imports torch.

User errors (EmocastError) print one line on stderr and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from emocast.errors import EmocastError

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message to one line plus usage."""


# ----------------------------------------------------------------------------------------------
# generate


def _add_generate(sub: argparse._SubParsersAction) -> None:
    from emocast.options import DEFAULT_MAX_AUDIO_SECONDS, ENGINES

    p = sub.add_parser("generate", help="portrait + speech + emotion prompt -> MP4")
    p.add_argument("--image", required=True, type=Path, help="portrait photo (jpg, png, webp, ...)")
    p.add_argument("--audio", required=True, type=Path, help="speech (wav, mp3, flac, ogg, m4a, webm)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="free-text emotion description (at most 1000 characters)")
    src.add_argument("--preset", help="name of a prompt preset (see `emocast presets`)")
    p.add_argument("--intensity", type=float, default=None,
                   help="0..1, default 0.8 (or the preset's own intensity with --preset)")
    p.add_argument("--engine", choices=ENGINES, default="mesh", help="default mesh (CPU)")
    p.add_argument("--size", type=int, default=512, help="output side in pixels, default 512")
    p.add_argument("--fps", type=int, default=25, help="frames per second, default 25")
    p.add_argument("--seed", type=int, default=0, help="random seed for blinks, gaze, head motion")
    p.add_argument("--head-motion", type=float, default=0.5, help="0..1 amount of head motion, default 0.5")
    p.add_argument("--no-blink", action="store_true", help="do not blink")
    p.add_argument("--voice-strength", type=float, default=0.5,
                   help="0..1: how much the voice modulates expression intensity (0 = off), default 0.5")
    p.add_argument("--keep-frame", action="store_true",
                   help="composite the animated face back into the whole original picture")
    p.add_argument("--max-audio-seconds", type=float, default=DEFAULT_MAX_AUDIO_SECONDS,
                   help=f"refuse longer audio, default {DEFAULT_MAX_AUDIO_SECONDS:g}")
    p.add_argument("--weights", type=Path, help="diffusion engine: folder with the pretrained weights")
    p.add_argument("--steps", type=int, default=25, help="diffusion engine: sampling steps, default 25")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--out", required=True, type=Path, help="output .mp4 path")


def _run_generate(args: argparse.Namespace) -> int:
    from emocast.options import GenerateOptions
    from emocast.pipeline import generate

    prompt, intensity = args.prompt, args.intensity
    if args.preset is not None:
        from emocast.emotion.presets import get_preset

        preset = get_preset(args.preset)
        prompt = preset.prompt
        intensity = preset.intensity if intensity is None else intensity
    options = GenerateOptions(
        intensity=GenerateOptions.intensity if intensity is None else intensity,
        engine=args.engine,
        size=args.size,
        fps=args.fps,
        seed=args.seed,
        head_motion=args.head_motion,
        blink=not args.no_blink,
        voice_strength=args.voice_strength,
        keep_frame=args.keep_frame,
        max_audio_seconds=args.max_audio_seconds,
        weights=args.weights,
        steps=args.steps,
    )
    progress = None if args.quiet else _print_progress
    result = generate(args.image, args.audio, prompt, out=args.out, options=options, progress=progress)
    _end_progress_line()
    print(result)
    return 0


_progress_line_open = False  # a "\r" progress line is on screen without its newline
_progress_stage = None  # the last stage printed when stderr is not a terminal


def _print_progress(stage: str, fraction: float) -> None:
    """One line rewritten in place on a terminal; in a log or a pipe, one line as each stage starts."""
    global _progress_line_open, _progress_stage
    if not sys.stderr.isatty():
        if stage != _progress_stage:
            sys.stderr.write(f"{stage:<12s} {fraction * 100:5.1f}%\n")
            sys.stderr.flush()
            _progress_stage = stage
        return
    sys.stderr.write(f"\r{stage:<12s} {fraction * 100:5.1f}%")
    sys.stderr.flush()
    _progress_line_open = True


def _end_progress_line() -> None:
    """Finish an open progress line, so what follows starts on a line of its own; end the run's progress."""
    global _progress_line_open, _progress_stage
    if _progress_line_open:
        sys.stderr.write("\n")
    _progress_line_open = False
    _progress_stage = None  # the next run in this process prints its first stage again


def _exit_on_signal(signum: int, frame) -> None:
    # SystemExit unwinds like an error: the partial video is removed, the render helper stopped
    raise SystemExit(128 + signum)


class _WarningLines(logging.Handler):
    """The library's warnings (several faces, a tilted head, closed eyes, a small face, an unreadable
    prompt) as "emocast: warning: ..." lines on stderr, each on a line of its own."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        _end_progress_line()
        sys.stderr.write(f"emocast: warning: {record.getMessage()}\n")


# ----------------------------------------------------------------------------------------------
# analyze-prompt


def _add_analyze_prompt(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze-prompt", help="free-text emotion prompt -> emotion plan")
    p.add_argument("text", help="the emotion prompt")
    p.add_argument("--intensity", type=float, default=None, help="0..1 slider; scales the text's own intensity")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _run_analyze_prompt(args: argparse.Namespace) -> int:
    from emocast.emotion.analyze import analyze_prompt
    from emocast.options import check_prompt

    if args.intensity is not None and not 0.0 <= args.intensity <= 1.0:
        raise EmocastError(f"intensity must be between 0 and 1, got {args.intensity}")
    plan = analyze_prompt(check_prompt(args.text), intensity=args.intensity)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(plan.to_dict(), ensure_ascii=False))
        return 0
    print(f"emotion:     {plan.emotion}  (p={plan.probabilities[plan.emotion]:.2f})")
    print(f"intensity:   {plan.intensity:.2f}")
    print(f"face:        {plan.description}")
    if len(plan.timeline) > 1:
        for key in plan.timeline:
            print(f"  t={key.t:.2f}  {key.emotion:<10s} intensity {key.intensity:.2f}")
    return 0


# ----------------------------------------------------------------------------------------------
# presets


def _add_presets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the curated emotion prompt presets")
    p.add_argument("--json", action="store_true", help="print a JSON list")


def _run_presets(args: argparse.Namespace) -> int:
    from emocast.emotion.presets import load_presets

    presets = load_presets()
    if args.json:
        print(json.dumps([p.to_dict() for p in presets], ensure_ascii=False, indent=1))
        return 0
    width = max(len(p.name) for p in presets)
    for p in presets:
        print(f"{p.name:<{width}s}  {p.emotion:<10s} {p.prompt}")
    return 0


# ----------------------------------------------------------------------------------------------
# evaluate


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="measure emotion, lip sync, identity and stability of a video")
    p.add_argument("video", nargs="?", type=Path, help="the video to judge")
    p.add_argument("--reference", type=Path, help="the portrait it was made from (identity metric)")
    p.add_argument("--emotion", help="the intended emotion label (accuracy)")
    p.add_argument("--batch", type=Path, help="CSV manifest of videos to judge (columns: video, reference, emotion)")
    p.add_argument("--report", type=Path, help="with --batch: folder for the Markdown report and plots")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _run_evaluate(args: argparse.Namespace) -> int:
    from emocast.evaluation.evaluate import evaluate, evaluate_batch, format_metrics

    if args.batch is not None:
        if args.report is None:
            raise EmocastError("--batch needs --report DIR for the report")
        report = evaluate_batch(args.batch, args.report)
        print(report)
        return 0
    if args.video is None:
        raise EmocastError("give a VIDEO to evaluate, or --batch MANIFEST.csv --report DIR")
    metrics = evaluate(args.video, reference=args.reference, emotion=args.emotion)
    print(json.dumps(metrics, indent=None if args.json else 1) if args.json else format_metrics(metrics))
    return 0


# ----------------------------------------------------------------------------------------------
# check-weights


def _add_check_weights(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-weights", help="compare a checkpoint's names and shapes with our EmoCAST network")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--manifest", type=Path, help="JSON manifest of parameter names and shapes")
    g.add_argument("--checkpoint", type=Path, help="an EmoCAST/Hallo net.pth (or .safetensors)")
    p.add_argument("--verbose", action="store_true", help="list every missing/unexpected/mismatched name")


def _run_check_weights(args: argparse.Namespace) -> int:
    from emocast.diffusion.check_weights import check_weights

    result = check_weights(manifest=args.manifest, checkpoint=args.checkpoint)
    print(result.report(verbose=args.verbose))
    return 0 if result.exact else 1


# ----------------------------------------------------------------------------------------------

COMMANDS = {
    "generate": (_add_generate, _run_generate),
    "analyze-prompt": (_add_analyze_prompt, _run_analyze_prompt),
    "presets": (_add_presets, _run_presets),
    "evaluate": (_add_evaluate, _run_evaluate),
    "check-weights": (_add_check_weights, _run_check_weights),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="emocast", description="EmoCAST Studio: emotional talking portraits.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _, run = COMMANDS[args.command]
    warnings = _WarningLines()
    library = logging.getLogger("emocast")
    library.addHandler(warnings)
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):  # a closed terminal or `kill` ends the run like Ctrl-C does
        if hasattr(signal, name) and threading.current_thread() is threading.main_thread():
            previous[name] = signal.signal(getattr(signal, name), _exit_on_signal)
    try:
        return run(args)
    except EmocastError as e:
        _end_progress_line()
        print(f"emocast: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        _end_progress_line()
        print(f"emocast: error: cannot write the video: {e.strerror}; free some space or choose another folder",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _end_progress_line()
        print("emocast: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        _end_progress_line()
        raise
    finally:
        library.removeHandler(warnings)
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


if __name__ == "__main__":
    raise SystemExit(main())
