"""EmoCAST Studio web app: ``python app.py`` (port from GRADIO_SERVER_PORT, default 7860).

Gradio UI only. Everything is built in build_demo() and started in main(); nothing (no model, no
preset file, no engine check) is loaded at import time. The work is done by emocast's public API
through the handlers in emocast/app_support/handlers.py.

Environment:
    GRADIO_SERVER_PORT / GRADIO_SERVER_NAME: where to listen (Gradio's own variables).
    EMOCAST_WEIGHTS: folder with the diffusion engine's pretrained weights (optional).
    EMOCAST_APP_CONCURRENCY: how many videos render at once (default 1: a render uses the machine).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
PORTRAIT_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SPEECH_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
SIZES = [256, 384, 512, 768, 1024]  # output side in pixels
QUEUE_MAX_SIZE = 32  # waiting jobs beyond this are refused with "queue full"
CACHE_CLEANUP = (1800, 3600)  # every 30 min, delete Gradio-cached files older than 1 h

INTRO = """\
# EmoCAST Studio
Make a portrait photo speak a recording **with the emotion you describe**.
1. Pick a portrait photo (or click an example portrait).
2. Upload or record speech (or click an example clip).
3. Describe the emotion in your own words, or pick a preset, and set how strong it is.
4. Press **Generate**. The **Compare** tab renders several emotions side by side.
"""


def _examples(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    return sorted(str(p) for p in folder.glob("*") if p.suffix.lower() in suffixes)


def build_demo():
    """Build the Blocks app (Generate and Compare tabs) with its queue. Returns the unlaunched gr.Blocks."""
    import gradio as gr

    from emocast.app_support import handlers as h

    # on a ZeroGPU Space `spaces` must be imported before torch, and the GPU function exist before launch
    h.zero_gpu_generate()
    portraits = _examples(ASSETS / "portraits", PORTRAIT_SUFFIXES)
    speech = _examples(ASSETS / "speech", SPEECH_SUFFIXES)
    presets = h.preset_names()
    engines, default_engine, engine_note = h.engine_choices(h.weights_from_env())

    with gr.Blocks(title="EmoCAST Studio", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Generate", id="generate"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(label="Portrait photo", type="filepath", sources=["upload", "webcam", "clipboard"],
                                     image_mode=None, format="png",  # the upload as is; webcam shots lossless
                                     height=300, elem_id="portrait")  # fmt: skip
                    gr.Examples(portraits, inputs=image, label="Example portraits (click one)", elem_id="portrait-examples")
                    audio = gr.Audio(label="Speech (upload or record)", type="filepath",
                                     sources=["upload", "microphone"], elem_id="speech")  # fmt: skip
                    gr.Examples(speech, inputs=audio, label="Example speech (click one)", elem_id="speech-examples")
                with gr.Column():
                    preset = gr.Dropdown(presets, value=None, label="Emotion preset",
                                         info="Fills the prompt and intensity; edit them freely.", elem_id="preset")  # fmt: skip
                    prompt = gr.Textbox(label="Emotion prompt", lines=2, max_length=1000, elem_id="prompt",
                                        placeholder='e.g. "she just got her dream job" or "brows knit, glaring"')  # fmt: skip
                    intensity = gr.Slider(0, 1, value=0.8, step=0.05, label="Intensity",
                                          info="0 = barely there, 1 = as strong as it gets", elem_id="intensity")  # fmt: skip
                    engine = gr.Radio(engines, value=default_engine, label="Engine", elem_id="engine")
                    if engine_note:
                        gr.Markdown(f"<small>{engine_note}</small>", elem_id="engine-note")
                    with gr.Accordion("Advanced options", open=False, elem_id="advanced"):
                        size = gr.Radio(SIZES, value=512, label="Size (pixels, square)", elem_id="size")
                        fps = gr.Slider(12, 60, value=25, step=1, label="Frames per second", elem_id="fps")
                        head_motion = gr.Slider(0, 1, value=0.5, step=0.05, label="Head motion",
                                                info="How much the head moves with the voice", elem_id="head-motion")  # fmt: skip
                        blink = gr.Checkbox(value=True, label="Blink naturally", elem_id="blink")
                        voice_strength = gr.Slider(0, 1, value=0.5, step=0.05, label="Voice-driven intensity",
                                                   info="How much loudness and pitch push the expression (0 = off)",
                                                   elem_id="voice-strength")  # fmt: skip
                        seed = gr.Number(value=0, precision=0, label="Seed",
                                         info="Same seed, same blinks and head motion", elem_id="seed")  # fmt: skip
                        keep_frame = gr.Checkbox(value=False, label="Keep the full frame",
                                                 info="Put the animated face back into the whole photo",
                                                 elem_id="keep-frame")  # fmt: skip
                    generate = gr.Button("Generate", variant="primary", elem_id="generate-btn")
            with gr.Row():
                with gr.Column():
                    video = gr.Video(label="Result", interactive=False, height=480, elem_id="result")
                with gr.Column():
                    plan_text = gr.Markdown("*The emotion plan (which face muscles move, and how strongly) appears here.*",
                                            elem_id="plan", container=True)  # fmt: skip
                    plot = gr.Plot(label="Expression intensity over the clip", elem_id="plot")

        with gr.Tab("Compare", id="compare"):
            gr.Markdown("Render one portrait and one recording with **2 to 4 prompts or intensities**, "
                        "then watch them side by side in one grid video. Leave a row empty to skip it.")  # fmt: skip
            with gr.Row():
                c_image = gr.Image(label="Portrait photo", type="filepath", image_mode=None, format="png", height=260,
                                   elem_id="c-portrait")  # fmt: skip
                c_audio = gr.Audio(label="Speech", type="filepath", sources=["upload", "microphone"], elem_id="c-speech")
            gr.Examples([[p, speech[0]] for p in portraits], inputs=[c_image, c_audio],
                        label="Examples (click one)", elem_id="compare-examples")  # fmt: skip
            starters = [h._presets()[name].prompt for name in presets[:2]] + ["", ""]
            rows = []
            for i in range(h.MAX_COMPARE):
                with gr.Row():
                    c_prompt = gr.Textbox(value=starters[i], label=f"Prompt {i + 1}", scale=4,
                                          placeholder="optional" if i >= 2 else "", elem_id=f"c-prompt{i + 1}")  # fmt: skip
                    c_intensity = gr.Slider(0, 1, value=0.8, step=0.05, label=f"Intensity {i + 1}", scale=2,
                                            elem_id=f"c-intensity{i + 1}")  # fmt: skip
                rows += [c_prompt, c_intensity]
            with gr.Row():
                c_engine = gr.Radio(engines, value=default_engine, label="Engine", elem_id="c-engine")
                c_size = gr.Radio(SIZES[:3], value=256, label="Cell size (pixels)", elem_id="c-size")
                c_seed = gr.Number(value=0, precision=0, label="Seed", elem_id="c-seed")
            compare = gr.Button("Compare", variant="primary", elem_id="compare-btn")
            with gr.Row():
                cells = [gr.Video(label=f"Variant {i + 1}", interactive=False, visible=False, height=320,
                                  elem_id=f"c-result{i + 1}")
                         for i in range(h.MAX_COMPARE)]  # fmt: skip
            grid = gr.Video(label="All variants in sync", interactive=False, elem_id="c-grid")
            grid_file = gr.File(label="Download the grid video", interactive=False, elem_id="c-grid-file")

        preset.change(h.fill_preset, preset, [prompt, intensity], queue=False, api_visibility="private")
        # One render at a time per button (trigger_mode="once" drops clicks while one is pending),
        # and the button is greyed out while it runs; renders share one queue slot pool.
        _busy_button(generate, "Generating…", h.generate_handler,
                     [image, audio, prompt, intensity, engine, size, fps, head_motion, blink, voice_strength, seed,
                      keep_frame], [video, plan_text, plot], api_name="generate")  # fmt: skip
        _busy_button(compare, "Comparing…", h.compare_handler,
                     [c_image, c_audio, *rows, c_engine, c_size, c_seed], [*cells, grid, grid_file],
                     api_name="compare")  # fmt: skip
    # a render keeps the CPU (or GPU) busy: by default one at a time, the rest wait in the queue
    demo.queue(default_concurrency_limit=int(os.environ.get("EMOCAST_APP_CONCURRENCY", "1")), max_size=QUEUE_MAX_SIZE)
    return demo


def _busy_button(button, busy_label: str, fn, inputs, outputs, api_name: str) -> None:
    """button.click -> disable it, run fn (in the shared "render" queue), enable it again."""
    import gradio as gr

    idle_label = button.value
    disable = button.click(lambda: gr.update(value=busy_label, interactive=False), None, button, queue=False,
                           trigger_mode="once", api_visibility="private")  # fmt: skip
    run = disable.then(fn, inputs, outputs, concurrency_id="render", api_name=api_name)
    # .then runs only after a success; .failure after a gr.Error, so both re-enable the button
    for after in (run.then, run.failure):
        after(lambda: gr.update(value=idle_label, interactive=True), None, button, queue=False, api_visibility="private")


def main() -> None:
    """Build the app and serve it."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo = build_demo()
    demo.launch(
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        allowed_paths=[str(ASSETS)],
        show_error=True,
    )


if __name__ == "__main__":
    main()
