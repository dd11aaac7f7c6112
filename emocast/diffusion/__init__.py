"""emocast.diffusion"""
