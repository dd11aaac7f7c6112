"""EmoCAST's diffusion engine (arXiv 2508.20615, Sec. 3.2), on torch + diffusers + transformers.

One network per file: reference_net (ReferenceNet + reference attention), unet_3d / unet_3d_blocks
(denoising UNet3D), motion_module, emotive_text_attention (eq. 2), emotive_audio_attention (eqs.
3-6), audio_proj, image_proj, face_locator; net (the ``net.pth`` module tree), config (real and tiny
sizes), pipeline_emocast (EmoCASTPipeline), weights (finding / loading pretrained files),
check_weights (``emocast check-weights``), engine (``--engine diffusion``), tiny (test pipeline).

Nothing here is imported by ``import emocast`` or the mesh engine.
"""
